import { expect } from "chai";
import * as fc from "fast-check";
describe("sanity", () => {
  it("loads ESM chai from CommonJS", () => {
    expect(fc.sample(fc.integer(), 3)).to.have.length(3);
  });
});

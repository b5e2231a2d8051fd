import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { BundleError, bundleHandler, HANDLER_ENTRIES } from "../../../src/lambda/bundle";

/** Evaluates a CommonJS bundle and returns its exports (the AWS SDK is stubbed when left external). */
function load(code: string): Record<string, unknown> {
  const module = { exports: {} as Record<string, unknown> };
  const stubRequire = (id: string) => (id.startsWith("@aws-sdk/") ? { external: id } : require(id));
  new Function("module", "exports", "require", code)(module, module.exports, stubRequire);
  return module.exports;
}

describe("bundleHandler", () => {
  let dir: string;
  before(() => {
    // Inside node_modules/.cache so esbuild resolves @aws-sdk from the project's node_modules.
    const cache = path.resolve(__dirname, "..", "..", "..", "node_modules", ".cache");
    fs.mkdirSync(cache, { recursive: true });
    dir = fs.mkdtempSync(path.join(cache, "avm-bundle-"));
    fs.writeFileSync(
      path.join(dir, "handler.ts"),
      'import { SQSClient } from "@aws-sdk/client-sqs";\n' +
        "export async function handler(): Promise<string> { return typeof SQSClient; }\n",
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [kind, entry] of Object.entries(HANDLER_ENTRIES)) {
    it(`bundles the ${kind} handler into CommonJS exporting handler`, () => {
      const bundle = bundleHandler(entry);
      expect(bundle.fileName).to.equal("index.js");
      expect(bundle.bytes).to.equal(Buffer.byteLength(bundle.code));
      expect(typeof load(bundle.code)["handler"]).to.equal("function");
    });
  }

  it("loads no AWS SDK module while the Lambda initialises: the handlers load it on their first invocation", () => {
    for (const entry of Object.values(HANDLER_ENTRIES)) {
      const required: string[] = [];
      const module = { exports: {} as Record<string, unknown> };
      const recordingRequire = (id: string) => {
        required.push(id);
        return require(id);
      };
      const { code } = bundleHandler(entry, { externalAwsSdk: true });
      new Function("module", "exports", "require", code)(module, module.exports, recordingRequire);
      expect(typeof module.exports["handler"], entry).to.equal("function");
      expect(
        required.filter((id) => id.startsWith("@aws-sdk/")),
        entry,
      ).to.deep.equal([]);
    }
  });

  it("includes the AWS SDK by default and leaves it to the runtime when asked", async () => {
    const bundled = bundleHandler(path.join(dir, "handler.ts"));
    const external = bundleHandler(path.join(dir, "handler.ts"), { externalAwsSdk: true });
    expect(bundled.code).not.to.include('require("@aws-sdk/client-sqs")');
    expect(external.code).to.include('require("@aws-sdk/client-sqs")');
    expect(external.bytes).to.be.lessThan(bundled.bytes);
    expect(await (load(bundled.code)["handler"] as () => Promise<string>)()).to.equal("function");
  });

  it("raises BundleError naming the entry when esbuild fails", () => {
    const missing = path.join(dir, "missing.ts");
    expect(() => bundleHandler(missing))
      .to.throw(BundleError)
      .with.property("message")
      .that.includes(`bundling Lambda handler "${missing}" failed:`);
  });
});

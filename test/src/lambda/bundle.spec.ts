import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { BundleError, bundleHandler, DEPS_FILE, HANDLER_ENTRIES } from "../../../src/lambda/bundle";

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
    it(`bundles the ${kind} handler into a small index.js exporting handler and a deps.js with the rest`, () => {
      const bundle = bundleHandler(entry);
      expect(bundle.fileName).to.equal("index.js");
      expect(Object.keys(bundle.files)).to.deep.equal(["index.js", DEPS_FILE]);
      expect(bundle.files["index.js"]).to.equal(bundle.code);
      expect(bundle.bytes).to.equal(Buffer.byteLength(bundle.code) + Buffer.byteLength(bundle.files[DEPS_FILE]!));
      expect(typeof load(bundle.code)["handler"]).to.equal("function");
      // index.js is the entry and its lazy require of deps.js, nothing else (no copy of what deps.js holds).
      expect(bundle.code.length).to.be.below(2_000);
      expect(bundle.code.match(/require\("[^"]*"\)/g)).to.deep.equal(['require("./deps")']);
    });
  }

  it("loads deps.js on the first invocation, from the file next to index.js", async () => {
    const out = fs.mkdtempSync(path.join(dir, "split-"));
    for (const [name, code] of Object.entries(bundleHandler(HANDLER_ENTRIES.webhook).files)) {
      fs.writeFileSync(path.join(out, name), code);
    }
    const loaded: string[] = [];
    const module = { exports: {} as Record<string, unknown> };
    const localRequire = (id: string) => {
      loaded.push(id);
      return require(id.startsWith("./") ? path.join(out, id) : id);
    };
    new Function("module", "exports", "require", bundleHandler(HANDLER_ENTRIES.webhook).code)(
      module,
      module.exports,
      localRequire,
    );
    expect(loaded).to.deep.equal([]);
    const handler = module.exports["handler"] as (event: unknown) => Promise<{ statusCode: number }>;
    // No secret is configured: the receiver answers without any AWS call.
    const saved = { ...process.env };
    try {
      process.env["AVM_LEDGER_TABLE"] = "avm-ledger";
      process.env["AVM_QUEUE_URL"] = "http://127.0.0.1:9/123456789012/avm-work";
      process.env["AWS_REGION"] = "us-east-1";
      process.env["POWERTOOLS_LOG_LEVEL"] = "SILENT";
      delete process.env["AVM_WEBHOOK_SECRET_ARN"];
      const response = await handler({ body: "{}", isBase64Encoded: false, headers: {}, requestContext: {} });
      expect(loaded).to.deep.equal(["./deps"]);
      expect(response.statusCode).to.be.a("number");
    } finally {
      process.env = saved;
    }
  });

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
    // No deps.ts next to this entry: one file.
    expect(Object.keys(bundled.files)).to.deep.equal(["index.js"]);
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

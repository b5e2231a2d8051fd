import { expect } from "chai";
import * as fc from "fast-check";
import {
  emailProblem,
  RequestValidationError,
  targetOuProblem,
  type RequestIssue,
} from "../../../../src/core/vending/requestRules";
import {
  completionTags,
  parseMeshstackHook,
  parseRequest,
  parseVendRequest,
} from "../../../../src/core/vending/requests";

const HOOK = {
  AccountName: "meshcloud.test-aws-integration",
  AccountEmail: "awsexample+meshcloud.test-aws-integration@example.com",
  AccountId: "222233334444",
  AccountArn: "arn:aws:organizations::111122223333:account/o-exampleorg1/222233334444",
  ProductName: "meshcloud",
  ContactEmail: "owner@example.com",
  Stage: "test-aws-integration",
  tagCostCenter: "1234",
  tagEnvironment: "dev",
};

const VEND = {
  accountName: "Team A Prod",
  email: "team-a+prod@example.com",
  targetOu: "/Workloads/Prod",
  tags: { CostCenter: "1234" },
};

function issuesOf(input: unknown): RequestIssue[] {
  try {
    parseRequest(input);
  } catch (error) {
    expect(error).to.be.instanceOf(RequestValidationError);
    return [...(error as RequestValidationError).issues];
  }
  throw new Error("expected a RequestValidationError");
}

function errorOf(input: unknown): RequestValidationError {
  try {
    parseRequest(input);
  } catch (error) {
    expect(error).to.be.instanceOf(RequestValidationError);
    return error as RequestValidationError;
  }
  throw new Error("expected a RequestValidationError");
}

describe("requests", () => {
  describe("meshStack hook payload", () => {
    it("parses meshStack's example hook payload into a hook request with its tags", () => {
      expect(parseRequest(HOOK)).to.deep.equal({
        kind: "meshstack-hook",
        accountName: "meshcloud.test-aws-integration",
        email: "awsexample+meshcloud.test-aws-integration@example.com",
        accountId: "222233334444",
        accountArn: "arn:aws:organizations::111122223333:account/o-exampleorg1/222233334444",
        partition: "aws",
        managementAccountId: "111122223333",
        organizationId: "o-exampleorg1",
        productName: "meshcloud",
        stage: "test-aws-integration",
        contactEmail: "owner@example.com",
        tags: { CostCenter: "1234", Environment: "dev" },
      });
    });

    it("parses the same payload from JSON text, and accepts other partitions and no ContactEmail", () => {
      const { ContactEmail: _omit, ...rest } = HOOK;
      const payload = JSON.stringify({
        ...rest,
        AccountArn: "arn:aws-us-gov:organizations::111122223333:account/o-exampleorg1/222233334444",
      });
      const parsed = parseMeshstackHook(payload);
      expect(parsed.partition).to.equal("aws-us-gov");
      expect(parsed).to.not.have.property("contactEmail");
      expect(completionTags(parsed)).to.deep.equal({ ProductName: "meshcloud", Stage: "test-aws-integration" });
    });

    it("reports every missing field by name", () => {
      expect(issuesOf({ AccountId: "222233334444" })).to.deep.equal([
        { field: "AccountName", message: "is required" },
        { field: "AccountEmail", message: "is required" },
        { field: "AccountArn", message: "is required" },
        { field: "ProductName", message: "is required" },
        { field: "Stage", message: "is required" },
      ]);
    });

    it("names the field and the rule for wrong types and bad values", () => {
      expect(
        issuesOf({
          ...HOOK,
          AccountName: 42,
          AccountEmail: "not-an-email",
          AccountId: "2222",
          AccountArn: "arn:aws:iam::111122223333:role/x",
          ProductName: "",
          ContactEmail: ["owner@example.com"],
          Stage: "x".repeat(257),
        }),
      ).to.deep.equal([
        { field: "AccountName", message: "must be a string (account name)" },
        { field: "AccountEmail", message: "must contain exactly one @" },
        { field: "AccountId", message: "must be a 12-digit AWS account id" },
        {
          field: "AccountArn",
          message:
            "must be an AWS Organizations account ARN (arn:<partition>:organizations::<management account id>:account/o-<org id>/<account id>)",
        },
        { field: "ProductName", message: "must not be empty" },
        { field: "ContactEmail", message: "must be a string (email address)" },
        { field: "Stage", message: "tag value must be at most 256 characters long" },
      ]);
    });

    it("requires AccountArn to name the same account as AccountId", () => {
      expect(issuesOf({ ...HOOK, AccountId: "999988887777" })).to.deep.equal([
        { field: "AccountArn", message: "must name the same account as AccountId" },
      ]);
    });

    it("reports unknown fields instead of ignoring them", () => {
      expect(issuesOf({ ...HOOK, accountEmail: "x@example.com", Tags: { a: "b" } })).to.deep.equal([
        { field: "accountEmail", message: "is not a known field" },
        { field: "Tags", message: "is not a known field" },
      ]);
    });

    it("checks tag<Name> fields against the AWS tag rules", () => {
      expect(
        issuesOf({
          ...HOOK,
          tag: "x",
          "tagaws:internal": "x",
          "tagBad!Key": "x",
          tagNumber: 5,
          tagLong: "v".repeat(257),
          tagStage: "clash",
          ["tag" + "k".repeat(129)]: "x",
        }),
      ).to.deep.equal([
        { field: "tag", message: "tag fields must be named tag<Name> with a non-empty tag name" },
        { field: "tagaws:internal", message: "tag key must not begin with the reserved prefix aws:" },
        { field: "tagBad!Key", message: "tag key may contain only letters, numbers, spaces and _ . : / = + - @" },
        { field: "tagNumber", message: "must be a string (tag value)" },
        { field: "tagLong", message: "tag value must be at most 256 characters long" },
        { field: "tagStage", message: "tag key Stage is reserved for the completion tag the AVM writes" },
        { field: `tag${"k".repeat(61)}...`, message: "tag key must be 1 to 128 characters long" },
      ]);
    });

    it("accepts Unicode letters and the allowed punctuation in tags, and an empty tag value", () => {
      const parsed = parseMeshstackHook({ ...HOOK, "tagKostenstelle Ä": "Zürich_1.2:3/4=5+6-7@8", tagEmpty: "" });
      expect(parsed.tags).to.deep.equal({
        CostCenter: "1234",
        Environment: "dev",
        "Kostenstelle Ä": "Zürich_1.2:3/4=5+6-7@8",
        Empty: "",
      });
    });

    it("allows 48 tag<Name> fields (50 with the completion tags) and rejects 49", () => {
      const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`tagT${i}`, "v"]));
      const { tagCostCenter: _a, tagEnvironment: _b, ...base } = HOOK;
      expect(Object.keys(parseMeshstackHook({ ...base, ...tags(48) }).tags)).to.have.length(48);
      expect(issuesOf({ ...base, ...tags(49) })).to.deep.equal([
        {
          field: "tag*",
          message:
            "at most 48 tag<Name> fields (AWS allows 50 tags per account and the AVM adds ProductName and Stage), got 49",
        },
      ]);
    });

    it("keeps a tag named __proto__ as a plain tag and reports a __proto__ field as unknown", () => {
      const parsed = parseMeshstackHook(JSON.stringify({ ...HOOK, tag__proto__: "x" }));
      expect(Object.getPrototypeOf(parsed.tags)).to.equal(Object.prototype);
      expect(Object.entries(parsed.tags)).to.deep.include(["__proto__", "x"]);
      expect(issuesOf(`{"AccountId": "222233334444", "__proto__": {"polluted": true}}`)).to.deep.include({
        field: "__proto__",
        message: "is not a known field",
      });
      expect(({} as Record<string, unknown>)["polluted"]).to.equal(undefined);
    });
  });

  describe("vend request", () => {
    it("parses a vend request", () => {
      expect(parseRequest(VEND)).to.deep.equal({
        kind: "vend",
        accountName: "Team A Prod",
        email: "team-a+prod@example.com",
        targetOu: "/Workloads/Prod",
        tags: { CostCenter: "1234" },
      });
    });

    it("accepts OU ids, the root id, the root path, a request id and completion tags", () => {
      for (const targetOu of ["ou-ab12-cd34ef56", "r-ab12", "/", "/Workloads", "/A b/C-d/E.f"]) {
        expect(parseVendRequest({ ...VEND, targetOu }).targetOu).to.equal(targetOu);
      }
      const full = parseVendRequest({ ...VEND, requestId: "ticket-42.a:b_c", productName: "ws", stage: "proj" });
      expect(full).to.deep.include({ requestId: "ticket-42.a:b_c", productName: "ws", stage: "proj" });
      expect(completionTags(full)).to.deep.equal({ ProductName: "ws", Stage: "proj" });
      const minimal = parseVendRequest({ accountName: "x", email: "abc@d.ef" });
      expect(minimal).to.deep.equal({ kind: "vend", accountName: "x", email: "abc@d.ef", tags: {} });
      expect(completionTags(minimal)).to.equal(undefined);
    });

    it("names the field and the rule for every problem", () => {
      expect(
        issuesOf({
          accountName: "",
          email: "a@b",
          targetOu: "Workloads/Prod",
          tags: { "aws:x": "1", ok: 2 },
          requestId: "-bad",
          productName: "ws",
          extra: true,
        }),
      ).to.deep.equal([
        { field: "accountName", message: "must be 1 to 50 printable ASCII characters (space to ~)" },
        { field: "email", message: "must be 6 to 64 characters long" },
        {
          field: "targetOu",
          message: "must be an OU id (ou-...), a root id (r-...) or an OU path starting with /",
        },
        {
          field: "requestId",
          message: "must be 1 to 128 characters of letters, digits and . _ : - starting with a letter or digit",
        },
        { field: "extra", message: "is not a known field" },
        { field: "tags.aws:x", message: "tag key must not begin with the reserved prefix aws:" },
        { field: "tags.ok", message: "must be a string (tag value)" },
        { field: "stage", message: "is required when productName is set (the completion tags go together)" },
      ]);
    });

    it("enforces the account name rule: printable ASCII, at most 50", () => {
      expect(parseVendRequest({ ...VEND, accountName: "x".repeat(50) }).accountName).to.have.length(50);
      for (const accountName of ["x".repeat(51), "tab\there", "naïve"]) {
        expect(issuesOf({ ...VEND, accountName })).to.deep.equal([
          { field: "accountName", message: "must be 1 to 50 printable ASCII characters (space to ~)" },
        ]);
      }
    });

    it("allows 50 tags without completion tags, 48 with them", () => {
      const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]));
      expect(Object.keys(parseVendRequest({ ...VEND, tags: tags(50) }).tags)).to.have.length(50);
      expect(issuesOf({ ...VEND, tags: tags(51) })).to.deep.equal([
        { field: "tags", message: "at most 50 tags (AWS allows 50 per account), got 51" },
      ]);
      expect(issuesOf({ ...VEND, tags: tags(49), productName: "p", stage: "s" })).to.deep.equal([
        {
          field: "tags",
          message: "at most 48 tags (AWS allows 50 per account and the AVM adds ProductName and Stage), got 49",
        },
      ]);
      expect(issuesOf({ ...VEND, tags: { ProductName: "x" }, productName: "p", stage: "s" })).to.deep.equal([
        { field: "tags.ProductName", message: "tag key ProductName is reserved for the completion tag the AVM writes" },
      ]);
      // Without completion tags, ProductName is an ordinary tag key.
      expect(parseVendRequest({ ...VEND, tags: { ProductName: "x" } }).tags).to.deep.equal({ ProductName: "x" });
    });

    it("rejects tags that are not an object of strings", () => {
      for (const tags of [[], "a=b", null, 5]) {
        expect(issuesOf({ ...VEND, tags })).to.deep.equal([
          { field: "tags", message: "must be an object mapping tag keys to string values" },
        ]);
      }
    });

    it("rejects malformed OU paths", () => {
      expect(targetOuProblem("/Workloads//Prod")).to.equal("each OU name in the path must be 1 to 128 characters long");
      expect(targetOuProblem("/Workloads/")).to.equal("each OU name in the path must be 1 to 128 characters long");
      expect(targetOuProblem(`/${"x".repeat(129)}`)).to.equal(
        "each OU name in the path must be 1 to 128 characters long",
      );
      expect(targetOuProblem("/a\nb")).to.equal("OU names must not contain control characters");
      expect(targetOuProblem("ou-AB12-cd34ef56")).to.equal(
        "must be an OU id (ou-...), a root id (r-...) or an OU path starting with /",
      );
    });
  });

  describe("root email rules", () => {
    const cases: [string, string | undefined][] = [
      ["a@b.co", undefined],
      ["first.last+tag@sub.example-domain.com", undefined],
      ["a@b.c", "must be 6 to 64 characters long"],
      [`${"a".repeat(55)}@example.com`, "must be 6 to 64 characters long"],
      ["ünï@example.com", "must contain only 7-bit ASCII characters"],
      ["a@b@example.com", "must contain exactly one @"],
      ["@example.com", "must have a local name before the @"],
      [
        "a b@example.com",
        `local name must not contain whitespace, control characters or any of " ' ( ) < > [ ] : ; , \\ | % &`,
      ],
      [
        "a%b@example.com",
        `local name must not contain whitespace, control characters or any of " ' ( ) < > [ ] : ; , \\ | % &`,
      ],
      [".ab@example.com", "local name must not begin with a dot"],
      [
        "abc@-example.com",
        "domain must consist of letters, digits, hyphens and dots and must not begin or end with a hyphen or dot",
      ],
      [
        "abc@example.com.",
        "domain must consist of letters, digits, hyphens and dots and must not begin or end with a hyphen or dot",
      ],
      [
        "abc@exa_mple.com",
        "domain must consist of letters, digits, hyphens and dots and must not begin or end with a hyphen or dot",
      ],
      ["abc@localhost", "domain must contain at least one dot"],
    ];
    for (const [email, problem] of cases) {
      it(`${problem === undefined ? "accepts" : "rejects"} ${JSON.stringify(email)}`, () => {
        expect(emailProblem(email)).to.equal(problem);
      });
    }
  });

  describe("malformed input", () => {
    const corpus: [string, unknown, RequestIssue[]][] = [
      ["non-JSON text", "AccountName=foo", [{ field: "payload", message: "is not valid JSON" }]],
      ["truncated JSON", '{"AccountName": "x",', [{ field: "payload", message: "is not valid JSON (at position 20)" }]],
      ["empty text", "", [{ field: "payload", message: "is not valid JSON" }]],
      ["JSON null", "null", [{ field: "payload", message: "must be a JSON object, got null" }]],
      ["JSON array", "[]", [{ field: "payload", message: "must be a JSON object, got an array" }]],
      ["JSON string", '"hello"', [{ field: "payload", message: "must be a JSON object, got string" }]],
      ["a number", 42, [{ field: "payload", message: "must be a JSON object, got number" }]],
      ["undefined", undefined, [{ field: "payload", message: "must be a JSON object, got undefined" }]],
      ["a boolean", true, [{ field: "payload", message: "must be a JSON object, got boolean" }]],
      [
        "oversized text",
        JSON.stringify({ accountName: "x".repeat(300_000) }),
        [{ field: "payload", message: "must be at most 262144 bytes of JSON" }],
      ],
      [
        "empty object",
        {},
        [
          { field: "accountName", message: "is required" },
          { field: "email", message: "is required" },
        ],
      ],
      [
        "numbers for strings",
        { accountName: 1, email: 2 },
        [
          { field: "accountName", message: "must be a string (account name)" },
          { field: "email", message: "must be a string (email address)" },
        ],
      ],
      [
        "oversized strings",
        { ...VEND, accountName: "x".repeat(100_000), email: `${"y".repeat(100_000)}@example.com` },
        [
          { field: "accountName", message: "must be 1 to 50 printable ASCII characters (space to ~)" },
          { field: "email", message: "must be 6 to 64 characters long" },
        ],
      ],
      [
        "nested objects for strings",
        { ...HOOK, AccountId: { value: "222233334444" } },
        [{ field: "AccountId", message: "must be a string (account id)" }],
      ],
      [
        "a number account id",
        { ...HOOK, AccountId: 222233334444 },
        [{ field: "AccountId", message: "must be a string (account id)" }],
      ],
      [
        "a control character in a field name",
        { ...VEND, "bad\nkey": 1 },
        [{ field: "bad?key", message: "is not a known field" }],
      ],
    ];
    for (const [name, input, issues] of corpus) {
      it(`rejects ${name} with RequestValidationError`, () => {
        expect(issuesOf(input)).to.deep.equal(issues);
      });
    }

    it("caps the list of issues and keeps the message to one line", () => {
      const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`unknown${i}\n`, i]));
      const error = errorOf({ ...VEND, ...many });
      expect(error.issues).to.have.length(21);
      expect(error.issues[20]).to.deep.equal({ field: "payload", message: "480 more problems not listed" });
      expect(error.message).to.equal(
        "invalid vend request: unknown0?: is not a known field; unknown1?: is not a known field; unknown2?: is not a known field; unknown3?: is not a known field; unknown4?: is not a known field (and 16 more)",
      );
      expect(error.message).to.not.include("\n");
    });

    it("turns a throwing getter into a validation error", () => {
      const hostile = {
        get accountName(): string {
          throw new Error("boom");
        },
      };
      const error = errorOf(hostile);
      expect(error.issues).to.deep.equal([{ field: "payload", message: "could not be read as a JSON object" }]);
      expect((error.cause as Error).message).to.equal("boom");
    });

    it("does not echo field values in messages", () => {
      const secret = "s3cr3t-value-do-not-log";
      const error = errorOf({ ...HOOK, AccountId: secret, tagX: `${secret}!`, AccountName: `${secret}\u0001` });
      expect(JSON.stringify(error.issues)).to.not.include(secret);
      expect(error.message).to.not.include(secret);
    });

    it("tells which parser refused the payload", () => {
      expect(() => parseVendRequest(HOOK))
        .to.throw(RequestValidationError)
        .with.property(
          "message",
          "invalid vend request: payload: must be a vend request (with accountName, email, targetOu, tags, requestId, productName, stage)",
        );
      expect(() => parseMeshstackHook(VEND))
        .to.throw(RequestValidationError)
        .with.property(
          "message",
          "invalid meshStack hook payload: payload: must be a meshStack hook payload (with AccountName, AccountEmail, AccountId, AccountArn, ProductName, ContactEmail, Stage)",
        );
    });

    it("never throws anything but RequestValidationError for arbitrary JSON values (property)", () => {
      const keys = fc.constantFrom(
        "AccountName",
        "AccountEmail",
        "AccountId",
        "AccountArn",
        "ProductName",
        "ContactEmail",
        "Stage",
        "tagCostCenter",
        "tag",
        "accountName",
        "email",
        "targetOu",
        "tags",
        "requestId",
        "productName",
        "stage",
        "__proto__",
        "constructor",
        "toString",
      );
      const shaped = fc.dictionary(fc.oneof(keys, fc.string()), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 12 });
      fc.assert(
        fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }), shaped, fc.json(), fc.string()), (input) => {
          for (const candidate of [input, typeof input === "string" ? input : JSON.stringify(input)]) {
            try {
              parseRequest(candidate);
            } catch (error) {
              if (!(error instanceof RequestValidationError)) throw error;
              if (error.issues.length === 0) throw new Error("a validation error without issues");
              if (error.message.includes("\n")) throw new Error("a multi-line message");
            }
          }
        }),
        { numRuns: 2_000 },
      );
    });

    it("accepts every generated valid vend request (property)", () => {
      const name = fc.stringMatching(/^[\x20-\x7e]{1,50}$/);
      const local = fc.stringMatching(/^[a-z0-9][a-z0-9.+_-]{0,20}$/);
      const domain = fc.stringMatching(/^[a-z0-9]{1,10}\.[a-z]{2,6}$/);
      fc.assert(
        fc.property(name, local, domain, (accountName, user, host) => {
          const email = `${user}@${host}`;
          fc.pre(email.length >= 6);
          const parsed = parseVendRequest({ accountName, email });
          return parsed.accountName === accountName && parsed.email === email;
        }),
        { numRuns: 500 },
      );
    });
  });
});

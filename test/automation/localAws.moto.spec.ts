import { expect } from "chai";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ListQueuesCommand, CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  DescribeOrganizationCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import { LocalAwsError, MOTO_DEFAULT_ACCOUNT_ID, startMoto } from "../../automation/localAws";
import { useMoto } from "../support/moto";
import { HANG_GUARD_MS, waitUntil } from "../support/hangGuard";
import { rejection } from "../support/rejection";

describe("localAws", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();

  it("serves AWS APIs on a loopback port", async () => {
    expect(moto.endpoint).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    const sqs = new SQSClient(moto.clientConfig());
    await sqs.send(new CreateQueueCommand({ QueueName: "first" }));
    const listed = await sqs.send(new ListQueuesCommand({}));
    expect(listed.QueueUrls).to.have.length(1);
    sqs.destroy();
  });

  it("resets state before each test", async () => {
    const sqs = new SQSClient(moto.clientConfig());
    const listed = await sqs.send(new ListQueuesCommand({}));
    expect(listed.QueueUrls ?? []).to.deep.equal([]);
    sqs.destroy();
  });

  it("creates an organization with one OU under the root", async () => {
    const org = await moto.createOrganization("Prod");
    expect(org.managementAccountId).to.equal(MOTO_DEFAULT_ACCOUNT_ID);
    expect(org.organizationId).to.match(/^o-[a-z0-9]{10,32}$/);
    expect(org.rootId).to.match(/^r-[a-z0-9]{4,32}$/);
    expect(org.ouId).to.match(/^ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$/);
    const client = new OrganizationsClient(moto.clientConfig());
    const described = await client.send(new DescribeOrganizationCommand({}));
    expect(described.Organization?.Id).to.equal(org.organizationId);
    const ous = await client.send(new ListOrganizationalUnitsForParentCommand({ ParentId: org.rootId }));
    expect(ous.OrganizationalUnits?.map((ou) => [ou.Id, ou.Name])).to.deep.equal([[org.ouId, "Prod"]]);
    client.destroy();
  });

  it("starts and stops a private server outside the shared one", async () => {
    const own = await startMoto({ startupTimeoutMs: HANG_GUARD_MS - 60_000 });
    expect(own.endpoint).to.not.equal(moto.endpoint);
    expect(own.version).to.match(/^\d+\.\d+\.\d+/);
    await own.reset();
    await own.stop();
    await own.stop(); // idempotent
    const error = await rejection(own.reset());
    expect(error).to.be.instanceOf(LocalAwsError);
    expect(error.message).to.match(/^moto reset at http:\/\/127\.0\.0\.1:\d+ failed: /);
  });

  it("fails with a clear error when the interpreter does not exist", async () => {
    const error = await rejection(startMoto({ python: "/nonexistent/python3" }));
    expect(error).to.be.instanceOf(LocalAwsError);
    expect(error.message).to.equal("cannot start moto with /nonexistent/python3: spawn /nonexistent/python3 ENOENT");
  });

  it("fails with a clear error when moto is not importable", async () => {
    const error = await rejection(startMoto({ python: "/usr/bin/env", startupTimeoutMs: HANG_GUARD_MS - 60_000 }));
    expect(error).to.be.instanceOf(LocalAwsError);
    expect(error.message).to.match(
      /^moto server \(\/usr\/bin\/env\) exited during startup \(code \d+, signal none\); run scripts\/setup-moto\.sh\./,
    );
  });

  it("gives up with a clear error when the server never reports its port", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "avm-moto-"));
    const fake = path.join(dir, "python");
    const ready = path.join(dir, "ready");
    writeFileSync(fake, `#!/bin/sh\necho starting\ntouch '${ready}'\nexec sleep 30\n`);
    chmodSync(fake, 0o755);
    // The startup timer fires once the fake has written its output, not after 300 ms of a possibly busy clock.
    const firedAfterOutput = (fire: () => void): (() => void) => {
      let cancelled = false;
      waitUntil("the fake interpreter's output", () => cancelled || existsSync(ready)).then(
        () => cancelled || fire(),
        () => undefined, // the test's own hang guard reports it
      );
      return () => (cancelled = true);
    };
    let error: unknown;
    try {
      await startMoto({ python: fake, startupTimeoutMs: 300, startupTimer: firedAfterOutput });
    } catch (e) {
      error = e;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(error).to.be.instanceOf(LocalAwsError);
    expect((error as Error).message).to.equal(
      `moto server (${fake}) did not report its port within 300 ms. Output: starting`,
    );
  });
});

/**
 * The batch's long-lived planners: the first starts on warm(); another starts only for a lasting backlog, once the
 * running ones have answered (real planner processes; each plan is a few milliseconds once a planner is up).
 */
import { expect } from "chai";
import { hasPrestartedPlanner, PlanPool, prestartPlanner } from "../../../automation/plan/planPool";
import { accountStackName, PROJECT_NAME } from "../../../src/shared/naming";
import { HANG_GUARD_MS } from "../../support/hangGuard";
import { REPO } from "../cli/subprocess";
import type { PlanChildRequest } from "../../../automation/plan/planProtocol";

function request(i: number): PlanChildRequest {
  const accountId = String(222233330000 + i);
  return {
    project: PROJECT_NAME,
    stack: accountStackName(accountId),
    config: {
      "aws:region": "eu-central-1",
      "meshstack-avm:stackKind": "account",
      "meshstack-avm:accountId": accountId,
      "meshstack-avm:managementAccountId": "111122223333",
      "meshstack-avm:automationAccountId": "444455556666",
    },
    secretKeys: [],
  };
}

describe("offline plan: planner pool", function () {
  this.timeout(HANG_GUARD_MS);

  it("plans a burst that queued during start-up on the one warm planner", async () => {
    const pool = new PlanPool({ repoRoot: REPO, size: 2 });
    try {
      pool.warm();
      const results = await Promise.all([1, 2, 3, 4, 5].map((i) => pool.plan(request(i))));
      expect(results.map((r) => r.ok)).to.deep.equal([true, true, true, true, true]);
      expect(pool.started).to.equal(1);
    } finally {
      await pool.close();
    }
  });

  it("starts a second planner once the first has answered and the backlog reaches growAt per planner", async () => {
    const pool = new PlanPool({ repoRoot: REPO, size: 2, growAt: 2 });
    try {
      expect((await pool.plan(request(0))).ok).to.equal(true);
      expect(pool.started).to.equal(1);
      const results = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => pool.plan(request(i))));
      expect(results.every((r) => r.ok)).to.equal(true);
      expect(pool.started).to.equal(2);
    } finally {
      await pool.close();
    }
  });

  it("adopts a planner prestarted for its repository as its first planner", async () => {
    prestartPlanner(REPO);
    expect(hasPrestartedPlanner(REPO)).to.equal(true);
    const other = new PlanPool({ repoRoot: `${REPO}/elsewhere`, size: 1 });
    expect(hasPrestartedPlanner(`${REPO}/elsewhere`)).to.equal(false);
    const pool = new PlanPool({ repoRoot: REPO, size: 1 });
    try {
      pool.warm();
      expect(hasPrestartedPlanner(REPO)).to.equal(false);
      expect((await pool.plan(request(7))).ok).to.equal(true);
      expect(pool.started).to.equal(1);
    } finally {
      await pool.close();
      await other.close();
    }
  });
});

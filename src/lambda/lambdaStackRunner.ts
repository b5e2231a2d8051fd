/**
 * The account stack runner the worker Lambda uses. In Lambda there is no Pulumi CLI, so account stacks run
 * remotely on Pulumi Deployments (a `queued` result; the Pulumi Cloud webhook reports the outcome).
 *
 * THE AUTOMATION WORKSTREAM FILLS {@link createLambdaAccountStackRunner} with its Pulumi Deployments runner
 * (REST API, token from `AVM_PULUMI_TOKEN_SECRET_ARN`, organization `AVM_PULUMI_ORGANIZATION`). Until then
 * it returns a runner that fails clearly, so a vend stops at BOOTSTRAPPING with a readable reason.
 */
import type { AccountStackRequest, AccountStackResult, AccountStackRunner } from "../vending/accountStackRunner";

/** No account stack runner is configured for the Lambda. */
export class AccountStackRunnerNotConfiguredError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Builds the worker's {@link AccountStackRunner} from the Lambda environment.
 * @param env the Lambda environment (`process.env`).
 */
export function createLambdaAccountStackRunner(env: NodeJS.ProcessEnv = process.env): AccountStackRunner {
  void env;
  return {
    async deploy(request: AccountStackRequest): Promise<AccountStackResult> {
      throw new AccountStackRunnerNotConfiguredError(
        `no account stack runner is configured for the worker Lambda (account ${request.accountId}): ` +
          "createLambdaAccountStackRunner in src/lambda/lambdaStackRunner.ts must return the Pulumi Deployments runner",
      );
    },
  };
}

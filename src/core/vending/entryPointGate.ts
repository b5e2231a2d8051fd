/**
 * The trust boundary of `AVMEntryPoint`. Its resource policy admits principals of the whole organization
 * (meshStack calls it through the access role in each managed account), so every request is checked here
 * before anything is written:
 *
 * - A **meshStack hook** acts only on an account the organization knows under exactly the id *and* root
 *   email of the payload: an ACTIVE member account of the organization (never the management account),
 *   looked up with DescribeAccount. A hook never moves an account (the workflow gives hook records no
 *   target OU). Its AccountArn is informational: the AVM acts on the checked AccountId only.
 * - A **vend request** (create an account, optionally adopt an existing one, move it to an OU) is an
 *   operator's action. Through the entry point it is refused unless the operator enabled it
 *   ({@link EntryPointAuthority.vend}); its target OU (or the deployment's default OU) must then be on the
 *   allow-list ({@link EntryPointAuthority.moveTargets}: the root only when listed), and it adopts an
 *   existing account the AVM did not create only when {@link EntryPointAuthority.adopt} is on.
 *
 * The `avm` CLI (operator credentials) records vend requests without this gate; `avm invoke` runs the
 * entry point's own code, gate included.
 */
import { normaliseEmail } from "../ledger";
import { OrganizationsRequestError, type OrganizationAccount } from "../organizations";
import {
  RequestValidationError,
  type AccountRequest,
  type MeshstackHookRequest,
  type RequestIssue,
} from "./requestRules";

/** What the entry point may do beyond the meshStack hook; every field off by default. */
export interface EntryPointAuthority {
  /** Accept vend requests (CreateAccount) through the entry point. Default false. */
  readonly vend: boolean;
  /** A vend through the entry point may adopt an existing account it did not create. Default false. */
  readonly adopt: boolean;
  /**
   * Target OUs a vend through the entry point may move its account to: OU ids, root ids or OU paths, compared
   * literally with the request's `targetOu` (or the default OU). Default none: a vend that names a target is
   * refused. The root is allowed only when listed (`r-...` or `/`).
   */
  readonly moveTargets: readonly string[];
}

/**
 * Key of the stored vend request (`record.request`) that is `false` when the request came through the entry
 * point without {@link EntryPointAuthority.adopt}: the workflow then never adopts an existing account that
 * this request did not create. A payload cannot set it (vend requests reject unknown fields).
 */
export const ADOPT_EXISTING_KEY = "adoptExisting";

/** The default: the meshStack hook only. */
export const HOOK_ONLY_AUTHORITY: EntryPointAuthority = Object.freeze({ vend: false, adopt: false, moveTargets: [] });

/** The one Organizations read the gate makes (the gateway's `describeAccount`). */
export interface AccountDirectory {
  /**
   * The organization's record of one account.
   * @throws OrganizationsRequestError with code `AccountNotFoundException` when the organization has no such account.
   */
  describeAccount(accountId: string): Promise<OrganizationAccount>;
}

/** What {@link createEntryPointGate} needs. */
export interface EntryPointGateOptions {
  readonly authority: EntryPointAuthority;
  /** Looks hook accounts up (in Lambda: Organizations through the vending role). */
  readonly directory: AccountDirectory;
  /**
   * The management account's id, or how to look it up (asked once, on the first hook): the AVM never
   * manages the management account, so a hook naming it is refused. DescribeAccount alone cannot tell.
   */
  readonly managementAccountId: string | (() => Promise<string>);
  /** The deployment's default target OU for vend requests that name none (it must be allow-listed too). */
  readonly defaultTargetOu?: string;
}

/** The entry point's authorization check, run after parsing and before any ledger write. */
export interface EntryPointGate {
  /**
   * @throws RequestRefusedError when the caller may not make this request (nothing is written then).
   * @throws the directory's errors other than "account not found" (the AVM cannot check: the invocation fails).
   */
  check(request: AccountRequest): Promise<void>;
  /** Whether vend requests accepted here may adopt an existing account the AVM did not create. */
  readonly adoptExisting: boolean;
}

/** A request was well-formed but is not allowed through the entry point; `issues` name the field and rule. */
export class RequestRefusedError extends RequestValidationError {
  constructor(issues: readonly RequestIssue[], requestKind: AccountRequest["kind"]) {
    super(issues, requestKind);
    const what = requestKind === "meshstack-hook" ? "meshStack hook payload" : "vend request";
    this.message = `refused ${what}: ${issues.map((issue) => `${issue.field}: ${issue.message}`).join("; ")}`;
  }
}

/** The setting names operators change, quoted in refusals so the message says how to allow the operation. */
export const AUTHORITY_SETTINGS = {
  vend: "entryPointVending",
  adopt: "entryPointAdoption",
  moveTargets: "entryPointTargetOus",
} as const;

/**
 * Checks `authority` for contradictions.
 * @returns the problems, each naming the setting; empty when consistent.
 */
export function authorityProblems(authority: EntryPointAuthority, defaultTargetOu?: string): string[] {
  const problems: string[] = [];
  if (authority.adopt && !authority.vend) {
    problems.push(`${AUTHORITY_SETTINGS.adopt} needs ${AUTHORITY_SETTINGS.vend}: adoption happens only through a vend`);
  }
  if (authority.moveTargets.length > 0 && !authority.vend) {
    problems.push(
      `${AUTHORITY_SETTINGS.moveTargets} needs ${AUTHORITY_SETTINGS.vend}: only vend requests move accounts`,
    );
  }
  if (authority.vend && defaultTargetOu !== undefined && !authority.moveTargets.includes(defaultTargetOu)) {
    problems.push(
      `${AUTHORITY_SETTINGS.moveTargets} must list the default OU ${defaultTargetOu} when ${AUTHORITY_SETTINGS.vend} is on`,
    );
  }
  return problems;
}

/** Creates the gate (see the module comment). */
export function createEntryPointGate(options: EntryPointGateOptions): EntryPointGate {
  const { authority, directory, defaultTargetOu } = options;
  let management: Promise<string> | undefined;
  const managementAccountId = (): Promise<string> => {
    const given = options.managementAccountId;
    management ??= typeof given === "string" ? Promise.resolve(given) : given();
    // A failed lookup is not kept: the next hook asks again.
    management.catch(() => (management = undefined));
    return management;
  };

  function checkVend(request: Extract<AccountRequest, { kind: "vend" }>): void {
    if (!authority.vend) {
      throw new RequestRefusedError(
        [
          {
            field: "payload",
            message: `vend requests (creating, adopting or moving accounts) are disabled at AVMEntryPoint; an operator enables them with the platform stack setting ${AUTHORITY_SETTINGS.vend}, or vends with the avm CLI`,
          },
        ],
        "vend",
      );
    }
    const target = request.targetOu ?? defaultTargetOu;
    if (target !== undefined && !authority.moveTargets.includes(target)) {
      throw new RequestRefusedError(
        [
          {
            field: request.targetOu !== undefined ? "targetOu" : "payload",
            message: `target OU ${target} is not on the allow-list of the platform stack setting ${AUTHORITY_SETTINGS.moveTargets}`,
          },
        ],
        "vend",
      );
    }
  }

  async function checkHook(request: MeshstackHookRequest): Promise<void> {
    const refuse = (field: string, message: string): never => {
      throw new RequestRefusedError([{ field, message }], "meshstack-hook");
    };
    const both = `AccountId ${request.accountId} and AccountEmail ${request.email}`;
    if (request.accountId === (await managementAccountId())) {
      refuse("AccountId", `${request.accountId} is the organization's management account; the AVM never manages it`);
    }
    let account: OrganizationAccount;
    try {
      account = await directory.describeAccount(request.accountId);
    } catch (error) {
      if (error instanceof OrganizationsRequestError && error.code === "AccountNotFoundException") {
        return refuse("AccountId", `${both}: the organization has no account ${request.accountId}`);
      }
      throw error;
    }
    // The organization's email is not quoted: the caller may not know it, and must not learn it here.
    if (account.id !== request.accountId || normaliseEmail(account.email) !== normaliseEmail(request.email)) {
      refuse("AccountEmail", `${both} do not match the organization's record of account ${request.accountId}`);
    }
    if (account.status !== "ACTIVE") {
      refuse("AccountId", `${both}: the account is ${account.status}, not ACTIVE`);
    }
  }

  return {
    adoptExisting: authority.adopt,
    async check(request) {
      if (request.kind === "vend") checkVend(request);
      else await checkHook(request);
    },
  };
}

/**
 * Reads the authority from environment variables (values as the platform stack writes them): `vend` and
 * `adopt` are `true` or `false` (absent: false), `moveTargets` a JSON array of strings (absent: none).
 * @throws Error naming the variable when a value is malformed.
 */
export function authorityFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  names: { readonly vend: string; readonly adopt: string; readonly moveTargets: string },
): EntryPointAuthority {
  const flag = (name: string): boolean => {
    const value = env[name]?.trim();
    if (value === undefined || value === "" || value === "false") return false;
    if (value === "true") return true;
    throw new Error(`environment variable ${name} must be true or false, got ${JSON.stringify(value)}`);
  };
  const raw = env[names.moveTargets]?.trim();
  let targets: unknown = [];
  if (raw !== undefined && raw !== "") {
    try {
      targets = JSON.parse(raw);
    } catch (error) {
      throw new Error(`environment variable ${names.moveTargets} must be a JSON array of OU ids or paths`, {
        cause: error,
      });
    }
  }
  if (!Array.isArray(targets) || !targets.every((entry) => typeof entry === "string" && entry !== "")) {
    throw new Error(`environment variable ${names.moveTargets} must be a JSON array of OU ids or paths`);
  }
  return Object.freeze({
    vend: flag(names.vend),
    adopt: flag(names.adopt),
    moveTargets: Object.freeze([...(targets as string[])]),
  });
}

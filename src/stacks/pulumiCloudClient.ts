/**
 * A minimal Pulumi Cloud REST client (`Authorization: token <PAT>`), with retries of 5xx, 429 and network
 * errors (jittered exponential backoff on the injected {@link Timing}) and one mapping of error statuses to
 * {@link PulumiCloudApiError} / {@link PulumiCloudAuthError}. The token is never logged and is redacted from
 * every error message.
 */
import { realTiming, type Timing } from "../shared/timing";
import { DeploymentsConfigError, PulumiCloudApiError, PulumiCloudAuthError, redact } from "./deploymentsErrors";

/** Options of {@link PulumiCloudClient}. */
export interface PulumiCloudClientOptions {
  /** Pulumi access token (env `PULUMI_ACCESS_TOKEN`). */
  readonly token: string;
  /** API base URL; default `https://api.pulumi.com` (tests point it at a local server). */
  readonly baseUrl?: string;
  readonly timing?: Timing;
  /** Attempts per request for retryable failures; default 4. */
  readonly maxAttempts?: number;
  /** First retry delay in ms; default 1000 (doubles, full jitter, cap 20 s). */
  readonly baseDelayMs?: number;
  /** Per-request timeout in ms; default 30 s. */
  readonly requestTimeoutMs?: number;
}

/** A successful (or explicitly accepted) response. */
export interface CloudResponse<T> {
  readonly status: number;
  readonly body: T;
}

const RETRYABLE = (status: number): boolean => status >= 500 || status === 429;

/** Reads `PULUMI_ACCESS_TOKEN`. @throws DeploymentsConfigError when unset */
export function tokenFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const token = env.PULUMI_ACCESS_TOKEN?.trim();
  if (!token) {
    throw new DeploymentsConfigError("PULUMI_ACCESS_TOKEN is not set: Pulumi Deployments needs a Pulumi access token");
  }
  return token;
}

/**
 * The client the CLI uses: token `PULUMI_ACCESS_TOKEN`, API `PULUMI_API_URL` (default `https://api.pulumi.com`).
 * @param purpose what needs the token, for the error message (default "Pulumi Deployments")
 * @throws DeploymentsConfigError when the token is unset
 */
export function pulumiCloudClientFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  timing: Timing = realTiming,
  purpose = "Pulumi Deployments",
): PulumiCloudClient {
  const token = env.PULUMI_ACCESS_TOKEN?.trim();
  if (!token)
    throw new DeploymentsConfigError(`PULUMI_ACCESS_TOKEN is not set: ${purpose} needs a Pulumi access token`);
  const apiUrl = env.PULUMI_API_URL?.trim();
  return new PulumiCloudClient({ token, timing, ...(apiUrl ? { baseUrl: apiUrl } : {}) });
}

/** Pulumi Cloud REST client. */
export class PulumiCloudClient {
  private readonly token: string;
  private readonly baseUrl: string;
  private readonly timing: Timing;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly requestTimeoutMs: number;

  constructor(options: PulumiCloudClientOptions) {
    if (options.token.trim() === "") throw new DeploymentsConfigError("the Pulumi access token must not be empty");
    this.token = options.token.trim();
    this.baseUrl = (options.baseUrl ?? "https://api.pulumi.com").replace(/\/+$/, "");
    this.timing = options.timing ?? realTiming;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /**
   * Sends one request. Statuses in `accept` are returned instead of thrown (e.g. 409 on create).
   * @throws PulumiCloudAuthError on 401/403; PulumiCloudApiError on other error statuses and exhausted retries
   */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    accept: readonly number[] = [],
  ): Promise<CloudResponse<T>> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      let status: number;
      let text: string;
      let retryAfterMs: number | undefined;
      try {
        const response = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers: {
            Authorization: `token ${this.token}`,
            Accept: "application/vnd.pulumi+8",
            "Content-Type": "application/json",
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(this.requestTimeoutMs),
        });
        status = response.status;
        text = await response.text();
        retryAfterMs = retryAfter(response.headers.get("retry-after"));
      } catch (error) {
        lastError = new PulumiCloudApiError(
          `${method} ${path}: network error: ${redact(error instanceof Error ? error.message : String(error), this.token)}`,
          0,
          method,
          path,
        );
        if (attempt < this.maxAttempts) {
          await this.backoff(attempt);
          continue;
        }
        throw lastError;
      }
      if ((status >= 200 && status < 300) || accept.includes(status)) {
        try {
          return { status, body: (text === "" ? {} : JSON.parse(text)) as T };
        } catch {
          throw new PulumiCloudApiError(
            `${method} ${path}: HTTP ${status} with a body that is not JSON: ${redact(text.slice(0, 200), this.token)}`,
            status,
            method,
            path,
          );
        }
      }
      const detail = redact(messageOf(text), this.token);
      if (RETRYABLE(status) && attempt < this.maxAttempts) {
        lastError = new PulumiCloudApiError(`${method} ${path}: HTTP ${status}: ${detail}`, status, method, path);
        await this.backoff(attempt, retryAfterMs);
        continue;
      }
      if (status === 401 || status === 403) {
        throw new PulumiCloudAuthError(
          `${method} ${path}: HTTP ${status}: the Pulumi access token is invalid or lacks access (${detail}); check PULUMI_ACCESS_TOKEN`,
          status,
          method,
          path,
        );
      }
      const tries = RETRYABLE(status) ? ` after ${attempt} attempts` : "";
      throw new PulumiCloudApiError(`${method} ${path}: HTTP ${status}${tries}: ${detail}`, status, method, path);
    }
    throw lastError;
  }

  /** Jittered exponential backoff; a server's `Retry-After` (capped at 60 s) wins when longer. */
  private async backoff(attempt: number, retryAfterMs?: number): Promise<void> {
    const cap = Math.min(20_000, this.baseDelayMs * 2 ** (attempt - 1));
    const jittered = Math.round(cap / 2 + (cap / 2) * this.timing.random());
    await this.timing.sleep(Math.max(jittered, Math.min(retryAfterMs ?? 0, 60_000)));
  }
}

/** `Retry-After` in ms (delta-seconds form only), or undefined. */
function retryAfter(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}

/** The `message` of a Pulumi error body (`{"code":409,"message":"..."}`), else the text itself, shortened. */
function messageOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === "string") return parsed.message.slice(0, 500);
  } catch {
    // not JSON
  }
  return text.slice(0, 500) || "(empty body)";
}

/**
 * A secret the Lambdas read from Secrets Manager that an operator can rotate while warm containers keep
 * serving:
 * - the current value (`AWSCURRENT`) is cached for at most `ttlMs` (default 5 minutes), then read again;
 * - after a signature mismatch the caller asks for {@link RotatingSecret.refresh}: the current and the previous
 *   value (`AWSPREVIOUS`) are read at once (at most once per `minRefreshIntervalMs`, default 30 s, so forged
 *   deliveries cannot flood Secrets Manager);
 * - during the rotation window (`rotationWindowMs`, default 1 hour, counted from the creation of the current
 *   version as Secrets Manager reports it) both values verify; after it only the current one does.
 *
 * Why not `@aws-lambda-powertools/parameters`: its cache (`maxAge`, `forceFetch`) covers the TTL and the forced
 * re-read, but it returns only the value, not the version's creation date the rotation window is measured from,
 * and the window logic would still be ours; this module needs one `GetSecretValue` call and no dependency.
 */

/** One read of a secret version. */
export interface SecretVersion {
  readonly value: string;
  /** When Secrets Manager created this version (`CreatedDate`), when known. */
  readonly createdAt?: Date;
}

/** Reads a version stage; `undefined` when the stage does not exist (no previous version yet). */
export type SecretStageReader = (stage: "AWSCURRENT" | "AWSPREVIOUS") => Promise<SecretVersion | undefined>;

/** Options of {@link RotatingSecret}. */
export interface RotatingSecretOptions {
  readonly read: SecretStageReader;
  readonly now: () => Date;
  /** Longest a read value is used before it is read again. Default 5 minutes. */
  readonly ttlMs?: number;
  /** Shortest interval between two forced re-reads. Default 30 s. */
  readonly minRefreshIntervalMs?: number;
  /** How long after the current version was created the previous one still verifies. Default 1 hour. */
  readonly rotationWindowMs?: number;
}

/** Defaults of {@link RotatingSecretOptions}. */
export const ROTATING_SECRET_DEFAULTS = Object.freeze({
  ttlMs: 5 * 60_000,
  minRefreshIntervalMs: 30_000,
  rotationWindowMs: 60 * 60_000,
});

interface Snapshot {
  readonly current: SecretVersion;
  /** `undefined`: not read since the last TTL read (only a forced refresh reads it). */
  readonly previous?: SecretVersion | null;
  readonly readAt: number;
}

/** See the module comment. */
export class RotatingSecret {
  private snapshot: Snapshot | undefined;
  private reading: Promise<Snapshot> | undefined;
  private lastForcedAt = Number.NEGATIVE_INFINITY;
  private readonly ttlMs: number;
  private readonly minRefreshIntervalMs: number;
  private readonly rotationWindowMs: number;

  constructor(private readonly options: RotatingSecretOptions) {
    this.ttlMs = options.ttlMs ?? ROTATING_SECRET_DEFAULTS.ttlMs;
    this.minRefreshIntervalMs = options.minRefreshIntervalMs ?? ROTATING_SECRET_DEFAULTS.minRefreshIntervalMs;
    this.rotationWindowMs = options.rotationWindowMs ?? ROTATING_SECRET_DEFAULTS.rotationWindowMs;
  }

  /**
   * The values a signature may be made with, the current one first: the cached ones while fresh, else read
   * again. The previous value is included only while the rotation window lasts.
   * @throws the reader's error (nothing is cached then).
   */
  async candidates(): Promise<readonly string[]> {
    const now = this.options.now().getTime();
    const snapshot =
      this.snapshot !== undefined && now - this.snapshot.readAt < this.ttlMs ? this.snapshot : await this.load(false);
    return this.valuesOf(snapshot);
  }

  /**
   * Reads the current and the previous value now (after a signature mismatch), unless that was done less than
   * `minRefreshIntervalMs` ago; returns the candidates.
   */
  async refresh(): Promise<readonly string[]> {
    const now = this.options.now().getTime();
    if (now - this.lastForcedAt < this.minRefreshIntervalMs && this.snapshot !== undefined) {
      return this.valuesOf(this.snapshot);
    }
    this.lastForcedAt = now;
    return this.valuesOf(await this.load(true));
  }

  private valuesOf(snapshot: Snapshot): string[] {
    const values = [snapshot.current.value];
    const previous = snapshot.previous;
    const createdAt = snapshot.current.createdAt;
    if (previous && previous.value !== snapshot.current.value && createdAt !== undefined) {
      if (this.options.now().getTime() < createdAt.getTime() + this.rotationWindowMs) values.push(previous.value);
    }
    return values;
  }

  private load(withPrevious: boolean): Promise<Snapshot> {
    const read = async (): Promise<Snapshot> => {
      const [current, previous] = await Promise.all([
        this.options.read("AWSCURRENT"),
        withPrevious ? this.options.read("AWSPREVIOUS") : Promise.resolve(undefined),
      ]);
      if (current === undefined) throw new Error("the secret has no current (AWSCURRENT) value");
      const keepPrevious = !withPrevious && this.snapshot?.current.value === current.value;
      return {
        current,
        previous: withPrevious ? (previous ?? null) : keepPrevious ? this.snapshot?.previous : undefined,
        readAt: this.options.now().getTime(),
      };
    };
    // Concurrent deliveries share one read.
    const pending = (this.reading ??= read().finally(() => (this.reading = undefined)));
    return pending.then((snapshot) => (this.snapshot = snapshot));
  }
}

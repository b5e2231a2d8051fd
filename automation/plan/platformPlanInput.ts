/**
 * The configuration of an offline platform-stack plan (`avm plan-platform`): stack config as JSON, in the shape
 * `pulumi config --json` prints (`{"<key>": {"value": "...", "secret": false}}`, secret entries without a value) or
 * as plain `{"<key>": <value>}`, plus `key=value` overrides. Keys without a namespace get the project's
 * (`meshstack-avm:`). Secret values never need to be known: an entry marked secret without a value gets
 * {@link PLANNED_SECRET}, which passes every secret key's validation; the program's secret keys and every entry
 * marked secret are masked in the plan.
 */
import { CONFIG_KEYS, CONFIG_NAMESPACE } from "../../src/config/keys";

/** Stand-in for a secret whose value the plan does not know (e.g. `pulumi config --json` without `--show-secrets`). */
export const PLANNED_SECRET = "planned-offline-secret-value";

/** Config values and the keys that are secret, as the offline planner takes them. */
export interface PlatformPlanInput {
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
}

/** Invalid plan input; the message names the key or the override. */
export class PlatformPlanInputError extends Error {
  override name = "PlatformPlanInputError";
}

const qualify = (key: string) => (key.includes(":") ? key : `${CONFIG_NAMESPACE}:${key}`);

function text(key: string, value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  throw new PlatformPlanInputError(`config key ${key}: expected a string, number, boolean or object value`);
}

/**
 * Builds the planner's input from parsed JSON (`undefined` for none) and `key=value` overrides (applied last).
 * @throws PlatformPlanInputError naming the key or override that cannot be read
 */
export function platformPlanInput(json: unknown, overrides: readonly string[] = []): PlatformPlanInput {
  const config: Record<string, string> = {};
  const secretKeys = new Set<string>();
  if (json !== undefined) {
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new PlatformPlanInputError('stack configuration must be a JSON object of keys, e.g. {"aws:region": "..."}');
    }
    for (const [rawKey, entry] of Object.entries(json as Record<string, unknown>)) {
      const key = qualify(rawKey);
      const shaped = typeof entry === "object" && entry !== null && !Array.isArray(entry) && "secret" in entry;
      if (!shaped) {
        config[key] = text(key, entry);
        continue;
      }
      const { value, objectValue, secret } = entry as { value?: unknown; objectValue?: unknown; secret?: unknown };
      if (secret === true) secretKeys.add(key);
      config[key] =
        objectValue !== undefined ? text(key, objectValue) : value !== undefined ? text(key, value) : PLANNED_SECRET;
      if (value === undefined && objectValue === undefined && secret !== true) {
        throw new PlatformPlanInputError(`config key ${key}: no value`);
      }
    }
  }
  for (const pair of overrides) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new PlatformPlanInputError(`--set must be key=value, got "${pair}"`);
    config[qualify(pair.slice(0, at))] = pair.slice(at + 1);
  }
  for (const key of CONFIG_KEYS.secret) secretKeys.add(qualify(key));
  return { config, secretKeys: [...secretKeys].filter((key) => key in config) };
}

/** The one error every invalid configuration value raises. */

/** Raised for any invalid or contradictory configuration value; the message names the key and the rule. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** The fully qualified key at fault (e.g. `meshstack-avm:accountId`, `aws:region`). */
  readonly key: string;
  constructor(key: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.key = key;
  }
}

/** Types of scripts/cliBundle.cjs (the compiled `avm` CLI, dist/cli/main.js). */
/** Path of the compiled CLI. */
export declare const OUT: string;
/** True when the compiled CLI exists and none of the files it was built from changed. */
export declare function isFresh(): boolean;
/** Builds the compiled CLI and returns its path. @throws when esbuild fails */
export declare function build(): string;
/** The compiled CLI, built first when missing or stale; undefined when it cannot be built. */
export declare function ensureCliBundle(): string | undefined;

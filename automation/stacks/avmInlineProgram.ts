/**
 * The product's Pulumi program as an inline Automation API program: the same `avmProgram()` that `src/index.ts`
 * runs under `pulumi up` and Pulumi Deployments, loaded on first use (it pulls in `@pulumi/aws`).
 */
import type { PulumiFn } from "@pulumi/pulumi/automation";

/** Runs `avmProgram()` and returns its outputs, leaving out those of the other stack kind (undefined). */
export const avmInlineProgram: PulumiFn = async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { avmProgram } = require("../../src/program") as typeof import("../../src/program");
  return Object.fromEntries(Object.entries(avmProgram()).filter(([, value]) => value !== undefined));
};

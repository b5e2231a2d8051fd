/**
 * The import graph of the product's TypeScript sources and the layering rules of ARCHITECTURE.md, checked over
 * it. Imports are read with TypeScript's own pre-processor (`import`, `export ... from`, `import type`,
 * `require()` and `import()` alike), so a lazy `require` counts like any other edge.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";

/** One import: the file that imports, and either a repo-relative file (no extension) or a package name. */
export interface ImportEdge {
  readonly from: string;
  readonly spec: string;
  /** Repo-relative module path without extension for a relative import; undefined for a package. */
  readonly target?: string;
  /** The package (`@pulumi/pulumi`, `zod`, `node:fs`) for a non-relative import. */
  readonly pkg?: string;
}

/** Source text by repo-relative path (`src/core/ports.ts`). */
export type SourceFiles = ReadonlyMap<string, string>;

/** Reads every `.ts` file under the given repo-relative folders. */
export function readSources(root: string, folders: readonly string[]): SourceFiles {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith(".ts")) files.set(rel, fs.readFileSync(path.join(root, rel), "utf8"));
    }
  };
  for (const folder of folders) walk(folder);
  return files;
}

const moduleId = (file: string) => file.replace(/\.ts$/, "");

function packageOf(spec: string): string {
  if (spec.startsWith("node:")) return spec;
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? spec);
}

/** Every import of every file; relative imports resolved to a module of `files` (or left dangling). */
export function importEdges(files: SourceFiles): ImportEdge[] {
  const modules = new Set([...files.keys()].map(moduleId));
  const edges: ImportEdge[] = [];
  for (const [file, text] of files) {
    for (const { fileName: spec } of ts.preProcessFile(text, true, true).importedFiles) {
      if (spec.startsWith(".")) {
        const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.(ts|js)$/, "");
        const target = [base, `${base}/index`].find((candidate) => modules.has(candidate)) ?? base;
        edges.push({ from: file, spec, target });
      } else {
        edges.push({ from: file, spec, pkg: packageOf(spec) });
      }
    }
  }
  return edges;
}

/** A broken rule: which rule, and the import that breaks it (or the cycle). */
export interface RuleViolation {
  readonly rule: string;
  readonly detail: string;
}

const under = (folder: string) => (module: string) => module === folder || module.startsWith(`${folder}/`);
const inCore = under("src/core");
const inShared = under("src/shared");
const inPolicies = under("src/policies");
const inLambda = under("src/lambda");
const inSrc = under("src");
const inAutomation = under("automation");

/** Packages the core may use: Node built-ins and zod (validation). */
const CORE_PACKAGES = /^(node:.*|zod)$/;
/** Packages a policy module may use: the IAM action catalog (data). */
const POLICY_PACKAGES = /^(@cloud-copilot\/iam-data)$/;

function transitiveImports(
  edges: readonly ImportEdge[],
  start: string,
): { modules: Set<string>; packages: Map<string, string> } {
  const byFrom = new Map<string, ImportEdge[]>();
  for (const edge of edges) {
    const list = byFrom.get(moduleId(edge.from)) ?? [];
    list.push(edge);
    byFrom.set(moduleId(edge.from), list);
  }
  const modules = new Set<string>([start]);
  const packages = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const current = queue.shift() as string;
    for (const edge of byFrom.get(current) ?? []) {
      if (edge.pkg !== undefined) {
        if (!packages.has(edge.pkg)) packages.set(edge.pkg, edge.from);
      } else if (edge.target !== undefined && !modules.has(edge.target)) {
        modules.add(edge.target);
        queue.push(edge.target);
      }
    }
  }
  return { modules, packages };
}

/** Import cycles, each as its modules in order (the first repeated at the end). */
export function findCycles(edges: readonly ImportEdge[]): string[][] {
  const graph = new Map<string, Set<string>>();
  for (const edge of edges) {
    if (edge.target === undefined) continue;
    const from = moduleId(edge.from);
    if (!graph.has(from)) graph.set(from, new Set());
    graph.get(from)?.add(edge.target);
  }
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

/**
 * The layering rules of ARCHITECTURE.md:
 * 1. `src/core` imports only `src/core`, `src/shared`, Node built-ins and zod (no adapter, no AWS SDK, no `@pulumi/*`);
 * 2. a Lambda handler (`src/lambda/<function>/index.ts`) reaches no `@pulumi/*` package and no `automation/`,
 *    through any chain of imports (the bundles would carry them);
 * 3. `src/` never imports `automation/`;
 * 4. `src/policies` is pure: it imports only `src/policies`, `src/shared` and the IAM action catalog;
 * 5. no import cycles.
 */
export function checkImportRules(files: SourceFiles): RuleViolation[] {
  const edges = importEdges(files);
  const violations: RuleViolation[] = [];
  for (const edge of edges) {
    const from = moduleId(edge.from);
    const what = `${edge.from} imports "${edge.spec}"`;
    if (inCore(from)) {
      const ok =
        edge.pkg !== undefined
          ? CORE_PACKAGES.test(edge.pkg)
          : inCore(edge.target ?? "") || inShared(edge.target ?? "");
      if (!ok) violations.push({ rule: "core imports no adapter, AWS SDK or @pulumi", detail: what });
    }
    if (inSrc(from) && edge.target !== undefined && inAutomation(edge.target)) {
      violations.push({ rule: "src never imports automation", detail: what });
    }
    if (inPolicies(from)) {
      const ok =
        edge.pkg !== undefined
          ? POLICY_PACKAGES.test(edge.pkg)
          : inPolicies(edge.target ?? "") || inShared(edge.target ?? "");
      if (!ok) violations.push({ rule: "policies are pure", detail: what });
    }
  }
  for (const file of [...files.keys()].filter((f) => inLambda(f) && f.endsWith("/index.ts")).sort()) {
    const { modules, packages } = transitiveImports(edges, moduleId(file));
    for (const [pkg, via] of packages) {
      if (pkg.startsWith("@pulumi/")) {
        violations.push({ rule: "handlers import no @pulumi", detail: `${file} reaches "${pkg}" (through ${via})` });
      }
    }
    for (const module of [...modules].filter(inAutomation).sort()) {
      violations.push({ rule: "src never imports automation", detail: `${file} reaches ${module}` });
    }
  }
  for (const cycle of findCycles(edges)) violations.push({ rule: "no cycles", detail: cycle.join(" -> ") });
  return violations;
}

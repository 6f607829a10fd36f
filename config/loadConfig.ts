import { existsSync, readFileSync } from "node:fs";
import yargs from "yargs/yargs";
import { ConfigError } from "./ConfigError";
import { DEFAULT_CONFIG } from "./defaults";
import { applyDerivedDefaults } from "./derivedDefaults";
import type { PlatformConfig } from "./PlatformConfig";
import { validateConfig } from "./validateConfig";

/** Environment variables start with this; `__` separates levels: PLATFORM_KAFKA__NODES=5. */
export const ENV_PREFIX = "PLATFORM_";
/** Environment variable naming a JSON config file, when --config is not given. */
export const CONFIG_FILE_ENV = "PLATFORM_CONFIG";
/**
 * The project's config file, in the project root beside cdktf.json. It is read when present and
 * no other file is named, by every run of the app: `npm run synth` and the synth that `cdktf
 * deploy`, `diff` and `output` run themselves (which passes the app no flags). Settings meant
 * for a deploy belong here.
 */
export const PROJECT_CONFIG_FILE = "platform.config.json";

export interface ConfigSources {
  /** Command-line arguments after the script name. @default [] */
  readonly argv?: readonly string[];
  /** Environment variables. @default {} */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Reads the config file; swapped in tests. @default fs.readFileSync as UTF-8 */
  readonly readFile?: (path: string) => string;
  /** The project config file (PROJECT_CONFIG_FILE's path), read when it exists and neither --config nor PLATFORM_CONFIG names a file. @default none */
  readonly projectFile?: string;
  /** Whether a file exists; swapped in tests. @default fs.existsSync */
  readonly fileExists?: (path: string) => boolean;
}

type Tree = { [key: string]: unknown };

/** One layer of settings and where it came from, so an error can point at the source. */
interface Layer {
  readonly values: Tree;
  /** How to name a key of this layer in an error, e.g. `--kafka.nodes` or `PLATFORM_KAFKA__NODES`. */
  readonly describe: (path: string) => string;
  /** Flags and environment variables arrive as text and are converted to the default's type. */
  readonly fromText: boolean;
}

/**
 * Builds the platform config. Later sources win: defaults < config file (`--config`, else
 * PLATFORM_CONFIG, else the project file when present) < PLATFORM_* environment variables <
 * command-line flags (`--kafka.nodes 5`). Throws ConfigError listing every problem, one line each.
 */
export function loadConfig(sources: ConfigSources = {}): PlatformConfig {
  const env = sources.env ?? {};
  const readFile = sources.readFile ?? ((path: string) => readFileSync(path, "utf8"));
  const flags = parseFlags(sources.argv ?? []);
  const configPath = chooseConfigFile(flags.configPath, sources);

  const layers: Layer[] = [];
  if (configPath) {
    layers.push({ values: readConfigFile(configPath, readFile), describe: (p) => `${p} (in ${configPath})`, fromText: false });
  }
  layers.push({ values: envTree(env), describe: (p) => `${p} (from ${envName(p)})`, fromText: true });
  layers.push({ values: flags.values, describe: (p) => `${p} (from --${p})`, fromText: true });

  const problems: string[] = [];
  const setPaths = new Set<string>();
  let merged: Tree = structuredClone(DEFAULT_CONFIG) as unknown as Tree;
  for (const layer of layers) {
    merged = mergeInto(merged, layer.values, layer, DEFAULT_CONFIG as unknown as Tree, "", problems, setPaths);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config = applyDerivedDefaults(merged as unknown as PlatformConfig, (path) => setPaths.has(path));
  problems.push(...validateConfig(config));
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

/** The config file these sources name, or the project file when it exists; undefined when none. */
export function configFileOf(sources: ConfigSources): string | undefined {
  return chooseConfigFile(parseFlags(sources.argv ?? []).configPath, sources);
}

function chooseConfigFile(flagPath: string | undefined, sources: ConfigSources): string | undefined {
  const named = flagPath ?? sources.env?.[CONFIG_FILE_ENV];
  if (named) return named;
  const exists = sources.fileExists ?? existsSync;
  return sources.projectFile !== undefined && exists(sources.projectFile) ? sources.projectFile : undefined;
}

function parseFlags(argv: readonly string[]): { configPath?: string; values: Tree } {
  const parsed = yargs([...argv])
    .parserConfiguration({
      "parse-numbers": false,
      "parse-positional-numbers": false,
      "camel-case-expansion": false,
      "boolean-negation": false,
      "dot-notation": true,
    })
    .option("config", { type: "string", describe: "JSON config file" })
    .help(false)
    .version(false)
    .exitProcess(false)
    .parseSync() as Tree;
  const { _: positional, $0: _script, config, ...values } = parsed;
  if (Array.isArray(positional) && positional.length > 0) {
    throw new ConfigError([`${String(positional[0])}: unexpected argument (settings are flags like --kafka.nodes 5)`]);
  }
  // --config given twice: the last one wins, as for every other flag.
  const lastConfig: unknown = Array.isArray(config) ? config[config.length - 1] : config;
  return { configPath: typeof lastConfig === "string" ? lastConfig : undefined, values };
}

function readConfigFile(path: string, readFile: (path: string) => string): Tree {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    throw new ConfigError([`config file ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`config file ${path}: is not valid JSON (${(error as Error).message})`]);
  }
  if (!isTree(value)) throw new ConfigError([`config file ${path}: must hold a JSON object`]);
  return value;
}

/** PLATFORM_KAFKA__NODES=5 -> { kafka: { nodes: "5" } }; PLATFORM_CONFIG is the file, not a setting. */
function envTree(env: Readonly<Record<string, string | undefined>>): Tree {
  const tree: Tree = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || name === CONFIG_FILE_ENV || value === undefined) continue;
    const path = name.slice(ENV_PREFIX.length).split("__").map(camelCase);
    let node = tree;
    for (const key of path.slice(0, -1)) {
      node = (node[key] = isTree(node[key]) ? node[key] : {}) as Tree;
    }
    node[path[path.length - 1]] = value;
  }
  return tree;
}

function envName(path: string): string {
  return ENV_PREFIX + path.split(".").map((key) => key.replace(/([A-Z])/g, "_$1").toUpperCase()).join("__");
}

function camelCase(snake: string): string {
  return snake.toLowerCase().replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

/** Applies one layer's values onto `base`, checking each key against the defaults' shape and type. */
function mergeInto(base: Tree, values: Tree, layer: Layer, shape: Tree, prefix: string, problems: string[], setPaths: Set<string>): Tree {
  const result: Tree = { ...base };
  for (const [key, raw] of Object.entries(values)) {
    const path = prefix + key;
    if (!(key in shape)) {
      const hint = closest(key, Object.keys(shape));
      problems.push(`${layer.describe(path)}: unknown key${hint ? ` (did you mean ${prefix}${hint}?)` : ""}`);
      continue;
    }
    const expected = shape[key];
    if (isTree(expected)) {
      if (!isTree(raw)) {
        problems.push(`${layer.describe(path)}: ${JSON.stringify(raw)} must be an object`);
        continue;
      }
      result[key] = mergeInto(result[key] as Tree, raw, layer, expected, `${path}.`, problems, setPaths);
      continue;
    }
    const converted = layer.fromText ? fromText(raw, expected) : raw;
    const typeProblem = checkType(converted, expected);
    if (typeProblem) {
      problems.push(`${layer.describe(path)}: ${JSON.stringify(raw)} ${typeProblem}`);
      continue;
    }
    result[key] = converted;
    setPaths.add(path);
  }
  return result;
}

/** Flags and environment variables are text; convert to the type the default has. */
function fromText(raw: unknown, expected: unknown): unknown {
  // A flag given twice arrives as an array; the last one wins, as yargs would do for scalars.
  if (Array.isArray(raw) && !Array.isArray(expected)) raw = raw[raw.length - 1];
  if (Array.isArray(expected)) {
    const items = Array.isArray(raw) ? raw : [raw];
    return items.flatMap((item) => String(item).split(",")).map((item) => item.trim()).filter((item) => item !== "");
  }
  if (typeof raw !== "string") return raw;
  if (typeof expected === "number" && /^-?\d+$/.test(raw.trim())) return Number(raw);
  if (typeof expected === "boolean" && (raw === "true" || raw === "false")) return raw === "true";
  return raw;
}

function checkType(value: unknown, expected: unknown): string | undefined {
  if (Array.isArray(expected)) {
    return Array.isArray(value) && value.every((item) => typeof item === "string") ? undefined : "must be a list of strings";
  }
  if (typeof expected === "number") return Number.isInteger(value) ? undefined : "must be an integer";
  if (typeof expected === "boolean") return typeof value === "boolean" ? undefined : "must be true or false";
  return typeof value === "string" ? undefined : "must be a string";
}

/** The known key nearest to a typo, when it is close enough to be a likely intent. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number; prefix: number } | undefined;
  for (const name of known) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    // Between equally near keys, the one the typo starts like: node is nodes, not mode.
    const prefix = commonPrefixLength(key.toLowerCase(), name.toLowerCase());
    if (!best || distance < best.distance || (distance === best.distance && prefix > best.prefix)) best = { name, distance, prefix };
  }
  return best && best.distance <= Math.max(2, Math.floor(key.length / 3)) ? best.name : undefined;
}

function commonPrefixLength(a: string, b: string): number {
  let length = 0;
  while (length < a.length && a[length] === b[length]) length += 1;
  return length;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_v, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

function isTree(value: unknown): value is Tree {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import Handlebars from "handlebars";

/** The project's templates: `<name>.sh.hbs` scripts, and partials/ shared by all of them. */
export const TEMPLATES_DIR = join(__dirname, "..", "templates");

/** Values a script template receives; every template also gets `scriptName`. */
export type ScriptContext = Readonly<Record<string, unknown>>;

export interface RenderOptions {
  /** Where `<name>.sh.hbs` is looked up. @default the project's templates/ */
  readonly templatesDir?: string;
}

let engine: typeof Handlebars | undefined;
const compiled = new Map<string, Handlebars.TemplateDelegate>();

/**
 * Renders templates/<name>.sh.hbs into a bash script. Templates do no computation: they get a
 * small typed context and place its values with `{{shq value}}` (bash single-quoted), so a
 * value can never break out of its quotes. A value the template names but the context lacks is
 * an error, not an empty string.
 */
export function renderScript(name: string, context: ScriptContext, options: RenderOptions = {}): string {
  const dir = options.templatesDir ?? TEMPLATES_DIR;
  const file = join(dir, `${name}.sh.hbs`);
  let template = compiled.get(file);
  if (!template) {
    template = handlebars().compile(readFileSync(file, "utf8"), { noEscape: true, strict: true });
    compiled.set(file, template);
  }
  try {
    return template({ scriptName: basename(name), ...context });
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}

/** Quotes a value for bash: 'it'\''s' is the only safe way to put arbitrary text in a script. */
export function shellQuote(value: unknown): string {
  return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

function handlebars(): typeof Handlebars {
  if (engine) return engine;
  const instance = Handlebars.create();
  instance.registerHelper("shq", (value: unknown, options: Handlebars.HelperOptions & { loc?: { start: { line: number } } }) => {
    if (value === undefined || value === null) {
      throw new Error(`shq at line ${options.loc?.start.line ?? "?"}: the value is missing from the template context`);
    }
    return shellQuote(value);
  });
  const partialsDir = join(TEMPLATES_DIR, "partials");
  for (const file of readdirSync(partialsDir).filter((f) => f.endsWith(".sh.hbs"))) {
    // Compiled once here: a partial registered as text is compiled again on every render.
    instance.registerPartial(file.replace(/\.sh\.hbs$/, ""), instance.compile(readFileSync(join(partialsDir, file), "utf8"), { noEscape: true, strict: true }));
  }
  engine = instance;
  return instance;
}

/**
 * Validates every workflow in .github/workflows with GitHub's own workflow parser (the one its
 * language service uses): the schema, and where each expression context may be used. Prints
 * one line per problem and exits 1 if there is any.
 *
 *   npx tsx scripts/validateWorkflows.ts [directory]
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const WORKFLOWS_DIR = join(__dirname, "..", ".github", "workflows");

/** Every problem GitHub's parser finds in the workflows, one line each. */
export async function workflowProblems(dir = WORKFLOWS_DIR): Promise<{ files: string[]; problems: string[] }> {
  // The parser is an ES module.
  const { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } = await import("@actions/workflow-parser");
  const files = readdirSync(dir).filter((name) => /\.ya?ml$/.test(name)).sort();
  const problems: string[] = [];
  for (const name of files) {
    const parsed = parseWorkflow({ name, content: readFileSync(join(dir, name), "utf8") }, new NoOperationTraceWriter());
    const messages = new Set(parsed.context.errors.getErrors().map((error) => error.message));
    if (parsed.value) {
      const template = await convertWorkflowTemplate(parsed.context, parsed.value);
      for (const error of template.errors ?? []) messages.add(error.Message);
    }
    problems.push(...messages);
  }
  return { files, problems };
}

if (require.main === module) {
  workflowProblems(process.argv[2] ?? WORKFLOWS_DIR).then(({ files, problems }) => {
    for (const problem of problems) console.error(problem);
    console.log(`${files.length} workflow(s), ${problems.length} problem(s)`);
    process.exitCode = problems.length > 0 || files.length === 0 ? 1 : 0;
  });
}

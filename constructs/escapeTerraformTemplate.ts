/** cdktf encodes its tokens as `${TfToken[...]}`; those must stay live references. */
const LITERAL_INTERPOLATION = /\$\{(?!TfToken\[)/g;
const LITERAL_DIRECTIVE = /%\{/g;

/**
 * Terraform treats `${...}` and `%{...}` in any string as template syntax, bash's own
 * `${VAR}` included. Doubling them (`$${`, `%%{`) makes Terraform emit them literally, so a
 * rendered script reaches the instance byte for byte; cdktf token references stay live.
 */
export function escapeTerraformTemplate(text: string): string {
  // Replacement functions, because "$$" in a replacement string means one "$".
  return text.replace(LITERAL_INTERPOLATION, () => "$${").replace(LITERAL_DIRECTIVE, () => "%%{");
}

/** What Terraform does to an escaped string: the inverse of escapeTerraformTemplate. */
export function unescapeTerraformTemplate(text: string): string {
  return text.replace(/\$\$\{/g, () => "${").replace(/%%\{/g, () => "%{");
}

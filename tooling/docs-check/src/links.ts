/**
 * The Markdown link check: every relative link, image and `#anchor` of the
 * tracked Markdown files must resolve in the repository, anchors slugged as
 * GitHub does. Links with a scheme are skipped (no network). README.md says
 * why this is not remark-validate-links.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { git } from '@conveyor/tooling-support';
import GithubSlugger from 'github-slugger';
import MarkdownIt from 'markdown-it';

/** One link or image of a document: its target as written (references resolved), percent-decoded, and its 1-based line. */
export interface MarkdownLink {
  readonly href: string;
  readonly line: number;
}

/** A link whose target or anchor does not exist, in `file` (from the root, `/` separators); `reason` says why. */
export interface BrokenLink extends MarkdownLink {
  readonly file: string;
  readonly reason: string;
}

export interface CheckLinksOptions {
  /** The repository root; links starting with `/` resolve against it, like on GitHub. */
  readonly root: string;
  /** Files to check, relative to `root`. @default - every tracked Markdown file */
  readonly files?: readonly string[];
}

/** `file:line: link → reason`, one line per broken link. */
export function formatBrokenLink(broken: BrokenLink): string {
  return `${broken.file}:${broken.line}: ${broken.href} → ${broken.reason}`;
}

/** The root of the git work tree holding `from` (by default, this package's own). */
export function findRepoRoot(from: string = __dirname): string {
  return git(from, ['rev-parse', '--show-toplevel']).trim();
}

/** Every tracked Markdown file of the repository, relative to its root. */
export function listMarkdownFiles(root: string): string[] {
  return nulSeparated(git(root, ['ls-files', '-z', '--', '*.md']));
}

/**
 * Checks every link of `options.files` (default: all tracked Markdown files).
 * Returns the broken ones, in file and line order; an empty list means every
 * relative link resolves.
 */
export function checkLinks(options: CheckLinksOptions): BrokenLink[] {
  const root = path.resolve(options.root);
  const repository = new RepositoryFiles(root);
  const broken: BrokenLink[] = [];
  for (const file of options.files ?? listMarkdownFiles(root)) {
    for (const link of scan(readFileSync(path.join(root, file), 'utf8'))) {
      const reason = link.reason ?? checkLink(repository, file, link.href);
      if (reason !== undefined) broken.push({ file, ...link, reason });
    }
  }
  return broken.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
}

// html: true so raw HTML reaches the token stream (explicit anchors, <a href>, <img src>).
const markdown = new MarkdownIt({ html: true });
type Token = MarkdownIt.Token;

/** `<a id="x">`, `<a name='x'>`: anchors written by hand. */
const EXPLICIT_ANCHOR = /<a\s(?:[^>]*?\s)?(?:id|name)\s*=\s*["']([^"']+)["']/gi;
/** `<a href="...">` and `<img src="...">` in raw HTML. */
const HTML_LINK = /<(a|img)\s(?:[^>]*?\s)?(href|src)\s*=\s*["']([^"']*)["']/gi;
/** `[text][label]` or `[text][]` left as text: its label is not defined. */
const FULL_REFERENCE = /\[([^\]\n]+)\]\[([^\]\n]*)\]/g;
/** Any URL scheme (http:, https:, mailto:, ftp:...) or a protocol-relative `//host`. */
const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;
/** GitHub's line anchors in a non-Markdown file: `#L12` or `#L12-L20`. */
const LINE_ANCHOR = /^L(\d+)(?:-L(\d+))?$/;
const MARKDOWN_FILE = /\.(md|markdown)$/i;

/**
 * The anchors GitHub gives a Markdown document: one slug per heading
 * (github-slugger: lower case, punctuation dropped, spaces as dashes, `-1`,
 * `-2`... for repeats), plus the `id`/`name` of explicit `<a>` tags.
 */
export function anchorsOf(source: string): Set<string> {
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  const tokens = markdown.parse(source, {});
  tokens.forEach((token, index) => {
    if (token.type === 'heading_open') anchors.add(slugger.slug(headingText(tokens[index + 1])));
    const html = token.type === 'html_block' ? [token] : (token.children ?? []).filter((child) => child.type === 'html_inline');
    for (const fragment of html) {
      for (const match of withoutComments(fragment.content).matchAll(EXPLICIT_ANCHOR)) {
        if (match[1] !== undefined) anchors.add(match[1]);
      }
    }
  });
  return anchors;
}

/** Every link and image of a Markdown document, in order, with its line. */
export function linksOf(source: string): MarkdownLink[] {
  return scan(source).filter((link) => link.reason === undefined);
}

/** A link, or a `[text][label]` already known broken (`reason`). */
type Found = MarkdownLink & { readonly reason?: string };

/**
 * One pass over a document: its links and images (Markdown and raw HTML), and
 * its `[text][label]` whose label is never defined (markdown-it leaves those
 * as plain text). markdown-it gives lines per block only: inline lines are
 * counted from the line breaks before each token.
 */
function scan(source: string): Found[] {
  const links: Found[] = [];
  let blockLine = 0;
  for (const token of markdown.parse(source, {})) {
    if (token.map) blockLine = token.map[0];
    if (token.type === 'html_block') links.push(...htmlLinks(token.content, blockLine));
    if (token.type !== 'inline' || !token.children) continue;
    let line = blockLine;
    // Text is split at every `[`: runs of plain text are joined before looking for references.
    let run = { text: '', line };
    const flush = () => {
      links.push(...referencesIn(run.text, run.line, token.content));
      run = { text: '', line };
    };
    for (const child of token.children) {
      if (child.type === 'text') {
        if (run.text === '') run.line = line;
        run.text += child.content;
      } else {
        flush();
        if (child.type === 'link_open') links.push({ href: decoded(String(child.attrGet('href') ?? ''), decodeURI), line: line + 1 });
        if (child.type === 'image') links.push({ href: decoded(String(child.attrGet('src') ?? ''), decodeURI), line: line + 1 });
        if (child.type === 'html_inline') links.push(...htmlLinks(child.content, line));
      }
      if (child.type === 'softbreak' || child.type === 'hardbreak') line += 1;
      if (child.type === 'html_inline') line += countNewlines(child.content);
    }
    flush();
  }
  return links;
}

/** `[text][label]` in a run of text, unless the source escapes it (`\[a\]\[b\]` is text on purpose). */
function referencesIn(text: string, line: number, source: string): Found[] {
  const writtenUnescaped = (written: string) => {
    for (let at = source.indexOf(written); at !== -1; at = source.indexOf(written, at + 1)) {
      if (source[at - 1] !== '\\') return true;
    }
    return false;
  };
  return [...text.matchAll(FULL_REFERENCE)]
    .filter((match) => writtenUnescaped(match[0]))
    .map((match) => ({ line: line + 1, href: match[0], reason: `reference [${match[2] || match[1]}] is not defined` }));
}

/** Why `href`, found in `file`, is broken; undefined when it resolves. */
function checkLink(repository: RepositoryFiles, file: string, href: string): string | undefined {
  if (href === '' || EXTERNAL.test(href)) return undefined;
  const hashAt = href.indexOf('#');
  const pathPart = decoded((hashAt === -1 ? href : href.slice(0, hashAt)).replace(/\?.*$/, ''), decodeURIComponent);
  const anchor = hashAt === -1 ? '' : decoded(href.slice(hashAt + 1), decodeURIComponent);

  if (pathPart === '') return anchor === '' ? undefined : checkAnchor(repository, file, anchor);
  const target = pathPart.startsWith('/')
    ? path.posix.normalize(pathPart.slice(1))
    : path.posix.normalize(path.posix.join(path.posix.dirname(file), pathPart));
  const relative = target.replace(/\/$/, '') || '.';
  if (relative === '..' || relative.startsWith('../')) return `points outside the repository: ${pathPart}`;

  const kind = repository.kindOf(relative);
  if (kind === 'missing') return `no such file or directory: ${relative}`;
  if (kind === 'ignored') return `${relative} exists here but is git-ignored, so it is not in the repository`;
  if (anchor === '') return undefined;
  if (kind === 'directory') {
    // GitHub shows a directory's README below its listing; an anchor refers to it.
    const readme = path.posix.join(relative === '.' ? '' : relative, 'README.md');
    return repository.kindOf(readme) === 'file' ? checkAnchor(repository, readme, anchor) : `${relative} is a directory without a README.md to hold #${anchor}`;
  }
  return checkAnchor(repository, relative, anchor);
}

function checkAnchor(repository: RepositoryFiles, target: string, anchor: string): string | undefined {
  if (!MARKDOWN_FILE.test(target)) {
    const lines = LINE_ANCHOR.exec(anchor);
    if (!lines) return `#${anchor}: only line anchors (#L12, #L12-L20) can be checked in ${target}`;
    const count = repository.lineCount(target);
    return Number(lines[2] ?? lines[1]) <= count ? undefined : `#${anchor}: ${target} has ${count} lines`;
  }
  return repository.anchors(target).has(anchor) ? undefined : `no heading or <a id> for #${anchor} in ${target}`;
}

/** What the repository holds: tracked files and untracked ones that are not ignored (what a commit would carry). */
class RepositoryFiles {
  private readonly files: Set<string>;
  private readonly directories = new Set<string>(['.']);
  private readonly anchorCache = new Map<string, Set<string>>();

  constructor(private readonly root: string) {
    this.files = new Set(nulSeparated(git(root, ['ls-files', '-z', '--cached', '--others', '--exclude-standard'])));
    for (const file of this.files) {
      for (let dir = path.posix.dirname(file); dir !== '.'; dir = path.posix.dirname(dir)) this.directories.add(dir);
    }
  }

  kindOf(relative: string): 'file' | 'directory' | 'ignored' | 'missing' {
    let stats;
    try {
      stats = statSync(path.join(this.root, relative));
    } catch {
      return 'missing'; // ENOENT, or ENOTDIR for `file.md/x`
    }
    if (stats.isDirectory()) return this.directories.has(relative) ? 'directory' : 'ignored';
    return this.files.has(relative) ? 'file' : 'ignored';
  }

  anchors(relative: string): Set<string> {
    const anchors = this.anchorCache.get(relative) ?? anchorsOf(readFileSync(path.join(this.root, relative), 'utf8'));
    this.anchorCache.set(relative, anchors);
    return anchors;
  }

  /** Lines as GitHub numbers them: a final newline does not start another line. */
  lineCount(relative: string): number {
    const text = readFileSync(path.join(this.root, relative), 'utf8');
    return text === '' ? 0 : text.replace(/\n$/, '').split('\n').length;
  }
}

/** The text GitHub slugs: the heading's rendered text, without markup or raw HTML tags. */
function headingText(inline: Token | undefined): string {
  if (!inline?.children) return inline?.content ?? '';
  return inline.children
    .filter((child) => child.type === 'text' || child.type === 'code_inline')
    .map((child) => child.content)
    .join('');
}

function htmlLinks(html: string, firstLine: number): MarkdownLink[] {
  const text = withoutComments(html);
  return [...text.matchAll(HTML_LINK)].map((match) => ({
    href: decoded(match[3] ?? '', decodeURI),
    line: firstLine + 1 + countNewlines(text.slice(0, match.index)),
  }));
}

/** HTML comments blanked out, newlines kept, so offsets still give the right line. */
function withoutComments(html: string): string {
  return html.replace(/<!--[\s\S]*?-->/g, (comment) => comment.replace(/[^\n]/g, ' '));
}

function countNewlines(text: string): number {
  return text.split('\n').length - 1;
}

/** Percent-decoded, or as written when invalid. Links are reported decodeURI'd (`%23` stays, so `#` still splits off the anchor). */
function decoded(text: string, decode: (encoded: string) => string): string {
  try {
    return decode(text);
  } catch {
    return text;
  }
}

function nulSeparated(output: string): string[] {
  return output.split('\0').filter((entry) => entry !== '');
}

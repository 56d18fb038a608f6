/**
 * The Markdown link check: every relative link and image in the repository's
 * tracked Markdown files must point at something that exists in the
 * repository, and every `#anchor` at a heading (or an explicit `<a id>`/
 * `<a name>`) of its target, slugged the way GitHub does. http(s), mailto and
 * other links with a scheme are skipped: no network here.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import GithubSlugger from 'github-slugger';
import MarkdownIt from 'markdown-it';

/** One link or image found in a Markdown file. */
export interface MarkdownLink {
  /** The target as written (after markdown-it resolved references), percent-decoded. */
  readonly href: string;
  /** 1-based line of the link (for a reference link: where it is used). */
  readonly line: number;
  readonly kind: 'link' | 'image' | 'html';
}

/** A link whose target or anchor does not exist. */
export interface BrokenLink {
  /** The Markdown file holding the link, relative to the repository root, with `/` separators. */
  readonly file: string;
  /** 1-based line of the link. */
  readonly line: number;
  /** The link as written (percent-decoded). */
  readonly link: string;
  /** Why it is broken, e.g. `no such file: docs/x.md`. */
  readonly reason: string;
}

export interface CheckLinksOptions {
  /** The repository root; links starting with `/` resolve against it, like on GitHub. */
  readonly root: string;
  /**
   * The Markdown files to check, relative to `root`.
   * @default - every tracked Markdown file (`git ls-files '*.md'`)
   */
  readonly files?: readonly string[];
}

/** `file:line: link → reason`, one line per broken link. */
export function formatBrokenLink(broken: BrokenLink): string {
  return `${broken.file}:${broken.line}: ${broken.link} → ${broken.reason}`;
}

/** The root of the git work tree holding `from` (by default, this package's own). */
export function findRepoRoot(from: string = __dirname): string {
  return git(from, ['rev-parse', '--show-toplevel']).trim();
}

/** Every tracked Markdown file of the repository, relative to its root. */
export function listMarkdownFiles(root: string): string[] {
  return gitPaths(root, ['ls-files', '-z', '--', '*.md']);
}

// html: true so raw HTML reaches the token stream (explicit anchors, <a href>, <img src>).
const markdown = new MarkdownIt({ html: true });

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
    if (token.type === 'heading_open') {
      anchors.add(slugger.slug(headingText(tokens[index + 1])));
    }
    const html = htmlOf(token);
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
  const links: MarkdownLink[] = [];
  const tokens = markdown.parse(source, {});
  // Table cells carry no line map: their row's tr_open does.
  let blockLine = 0;
  for (const token of tokens) {
    if (token.map) blockLine = token.map[0];
    if (token.type === 'html_block') {
      links.push(...htmlLinks(token.content, blockLine));
    }
    if (token.type !== 'inline' || !token.children) continue;
    let line = blockLine;
    for (const child of token.children) {
      if (child.type === 'link_open') {
        links.push({ href: decode(String(child.attrGet('href') ?? '')), line: line + 1, kind: 'link' });
      } else if (child.type === 'image') {
        links.push({ href: decode(String(child.attrGet('src') ?? '')), line: line + 1, kind: 'image' });
      } else if (child.type === 'html_inline') {
        links.push(...htmlLinks(child.content, line));
      }
      line += lineBreaksIn(child);
    }
  }
  return links;
}

/**
 * Checks every link of `options.files` (default: all tracked Markdown files).
 * Returns the broken ones, in file and line order; an empty list means every
 * relative link resolves.
 */
export function checkLinks(options: CheckLinksOptions): BrokenLink[] {
  const root = path.resolve(options.root);
  const files = [...(options.files ?? listMarkdownFiles(root))].sort();
  const repository = new RepositoryFiles(root);
  const broken: BrokenLink[] = [];
  for (const file of files) {
    const source = readFileSync(path.join(root, file), 'utf8');
    for (const link of linksOf(source)) {
      const reason = checkLink(repository, toPosix(file), link.href);
      if (reason !== undefined) broken.push({ file: toPosix(file), line: link.line, link: link.href, reason });
    }
    for (const undefinedReference of undefinedReferences(source)) {
      broken.push({ file: toPosix(file), ...undefinedReference });
    }
  }
  return broken.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
}

/** `<a id="x">`, `<a name='x'>`: anchors written by hand. */
const EXPLICIT_ANCHOR = /<a\s(?:[^>]*?\s)?(?:id|name)\s*=\s*["']([^"']+)["']/gi;
/** `<a href="...">` and `<img src="...">` in raw HTML. */
const HTML_LINK = /<(a|img)\s(?:[^>]*?\s)?(href|src)\s*=\s*["']([^"']*)["']/gi;
/** Any URL scheme (http:, https:, mailto:, ftp:...) or a protocol-relative `//host`. */
const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;
/** GitHub's line anchors in a non-Markdown file: `#L12` or `#L12-L20`. */
const LINE_ANCHOR = /^L(\d+)(?:-L(\d+))?$/;
const MARKDOWN_FILE = /\.(md|markdown)$/i;

/** Why `href`, found in `file`, is broken; undefined when it resolves. */
function checkLink(repository: RepositoryFiles, file: string, href: string): string | undefined {
  if (href === '' || EXTERNAL.test(href)) return undefined;
  const hashAt = href.indexOf('#');
  const pathPart = decodeComponent((hashAt === -1 ? href : href.slice(0, hashAt)).replace(/\?.*$/, ''));
  const anchor = hashAt === -1 ? '' : decodeComponent(href.slice(hashAt + 1));

  if (pathPart === '') {
    return anchor === '' ? undefined : checkAnchor(repository, file, anchor);
  }
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
    const last = Number(lines[2] ?? lines[1]);
    const count = repository.lineCount(target);
    return last <= count ? undefined : `#${anchor}: ${target} has ${count} lines`;
  }
  return repository.anchors(target).has(anchor) ? undefined : `no heading or <a id> for #${anchor} in ${target}`;
}

/**
 * `[text][label]` (or `[text][]`) whose label is never defined: markdown-it
 * leaves it as plain text, so it renders with its brackets instead of as a link.
 */
function undefinedReferences(source: string): Array<Omit<BrokenLink, 'file'>> {
  const found: Array<Omit<BrokenLink, 'file'>> = [];
  const tokens = markdown.parse(source, {});
  let blockLine = 0;
  for (const token of tokens) {
    if (token.map) blockLine = token.map[0];
    if (token.type !== 'inline' || !token.children) continue;
    // Text is split at every `[`, so join the runs of plain text first.
    let line = blockLine;
    let run = '';
    let runLine = line;
    const flush = (): void => {
      for (const match of run.matchAll(/\[([^\]\n]+)\]\[([^\]\n]*)\]/g)) {
        // Escaped brackets (\[a\]\[b\]) are text on purpose: only flag what the source writes as is.
        if (!writtenUnescaped(token.content, match[0])) continue;
        const label = match[2] === '' ? match[1] : match[2];
        found.push({ line: runLine + 1, link: match[0], reason: `reference [${label}] is not defined` });
      }
      run = '';
    };
    for (const child of token.children) {
      if (child.type === 'text') {
        if (run === '') runLine = line;
        run += child.content;
      } else {
        flush();
      }
      line += lineBreaksIn(child);
    }
    flush();
  }
  return found;
}

/** True when `source` holds `text` verbatim, not right after a backslash. */
function writtenUnescaped(source: string, text: string): boolean {
  for (let at = source.indexOf(text); at !== -1; at = source.indexOf(text, at + 1)) {
    if (source[at - 1] !== '\\') return true;
  }
  return false;
}

type PathKind = 'file' | 'directory' | 'ignored' | 'missing';

/** What the repository holds: tracked files and untracked ones that are not ignored (what a commit would carry). */
class RepositoryFiles {
  private readonly files: Set<string>;
  private readonly directories = new Set<string>(['.']);
  private readonly anchorCache = new Map<string, Set<string>>();

  constructor(private readonly root: string) {
    this.files = new Set(gitPaths(root, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']));
    for (const file of this.files) {
      for (let dir = path.posix.dirname(file); dir !== '.'; dir = path.posix.dirname(dir)) this.directories.add(dir);
    }
  }

  kindOf(relative: string): PathKind {
    let stats;
    try {
      stats = statSync(path.join(this.root, relative));
    } catch {
      return 'missing';
    }
    if (stats.isDirectory()) return this.directories.has(relative) ? 'directory' : 'ignored';
    return this.files.has(relative) ? 'file' : 'ignored';
  }

  anchors(relative: string): Set<string> {
    let anchors = this.anchorCache.get(relative);
    if (anchors === undefined) {
      anchors = anchorsOf(readFileSync(path.join(this.root, relative), 'utf8'));
      this.anchorCache.set(relative, anchors);
    }
    return anchors;
  }

  /** Lines as GitHub numbers them: a final newline does not start another line. */
  lineCount(relative: string): number {
    const text = readFileSync(path.join(this.root, relative), 'utf8');
    return text === '' ? 0 : text.replace(/\n$/, '').split('\n').length;
  }
}

type Token = MarkdownIt.Token;

/** The text GitHub slugs: the heading's rendered text, without markup or raw HTML tags. */
function headingText(inline: Token | undefined): string {
  if (!inline?.children) return inline?.content ?? '';
  return inline.children
    .filter((child) => child.type === 'text' || child.type === 'code_inline')
    .map((child) => child.content)
    .join('');
}

function htmlOf(token: Token): Token[] {
  if (token.type === 'html_block') return [token];
  return (token.children ?? []).filter((child) => child.type === 'html_inline');
}

function htmlLinks(html: string, firstLine: number): MarkdownLink[] {
  const text = withoutComments(html);
  return [...text.matchAll(HTML_LINK)].map((match) => ({
    href: decode(match[3] ?? ''),
    line: firstLine + 1 + countNewlines(text.slice(0, match.index)),
    kind: 'html' as const,
  }));
}

/** HTML comments blanked out, newlines kept, so offsets still give the right line. */
function withoutComments(html: string): string {
  return html.replace(/<!--[\s\S]*?-->/g, (comment) => comment.replace(/[^\n]/g, ' '));
}

function lineBreaksIn(token: Token): number {
  if (token.type === 'softbreak' || token.type === 'hardbreak') return 1;
  return token.type === 'html_inline' ? countNewlines(token.content) : 0;
}

function countNewlines(text: string): number {
  return text.split('\n').length - 1;
}

/**
 * markdown-it percent-encodes hrefs; they are reported decoded. decodeURI keeps
 * reserved characters encoded (`%23` stays, so `#` still splits off the anchor).
 */
function decode(href: string): string {
  try {
    return decodeURI(href);
  } catch {
    return href;
  }
}

/** A path or anchor, fully decoded (`%23` is `#`, `%3F` is `?`). */
function decodeComponent(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function toPosix(file: string): string {
  return file.split(path.sep).join('/');
}

function git(cwd: string, args: readonly string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

function gitPaths(root: string, args: readonly string[]): string[] {
  return git(root, args)
    .split('\0')
    .filter((entry) => entry !== '');
}

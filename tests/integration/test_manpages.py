"""The manual pages firmware/man/dropkiosk.8 and dropkioskctl.8: man-db
formats them without a single warning (the check Debian's lintian makes),
lexgrog finds their NAME line, .TH names the program in section 8, the
troff source has no stray control line or unescaped option hyphen, and the
pages describe every long option `dropkiosk --help` prints and every verb
`dropkioskctl --help` prints (and the verbs listed below, so a verb that
vanishes from the help fails too)."""

import os
import re
import shlex
import shutil
import subprocess
import unittest

from kiosk import CTL, DAEMON, ROOT

MAN_DIR = os.path.join(ROOT, "firmware", "man")
PAGES = {
    "dropkiosk": os.path.join(MAN_DIR, "dropkiosk.8"),
    "dropkioskctl": os.path.join(MAN_DIR, "dropkioskctl.8"),
}

# Every verb dropkioskctl has today.  A verb added to the help must be
# documented (it is parsed from the help as well); one removed from the
# program fails here until this list and the page say so.
EXPECTED_VERBS = [
    "keygen", "pubkey", "import", "verify", "decode", "outbox", "audit",
    "tech", "receive", "cleanout", "discrepancies", "dispose", "wipe",
    "reimage", "reassign", "recycle", "reserve", "manifest", "report",
    "printer", "reprint", "digest",
]

# The daemon's long options today, for the same reason.
EXPECTED_DAEMON_OPTIONS = ["--config", "--db", "--check-config", "--verbose", "--help",
                           "--version"]

# Options another verb of dropkioskctl has, besides what its help lists.
EXPECTED_CTL_OPTIONS = ["--if-missing", "--fingerprint", "--pin-stdin", "--tech", "--csv",
                        "--map", "--days", "--out", "--printer", "--date"]

# The man(7) macros (and the few requests) the pages may use.
KNOWN_MACROS = {"TH", "SH", "SS", "TP", "PP", "IP", "RS", "RE", "B", "I", "BR", "RB",
                "BI", "IB", "IR", "RI", "nf", "fi", "br", "\\\""}

LONG_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def help_text(program, *args):
    proc = subprocess.run([program, *args, "--help"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=30)
    if proc.returncode != 0:
        raise AssertionError("%s --help: exit %d: %s" % (program, proc.returncode,
                                                          proc.stderr.decode()))
    return proc.stdout.decode()


def verbs_in_help(text):
    """The first word of each verb line of `dropkioskctl --help`: lines
    indented by exactly two spaces between "Verbs:" and "Options:"."""
    verbs, inside = [], False
    for line in text.splitlines():
        if line.startswith("Verbs:"):
            inside = True
        elif line.startswith("Options:"):
            inside = False
        elif inside:
            m = re.match(r"  ([a-z]+)\b", line)
            if m and m.group(1) not in verbs:
                verbs.append(m.group(1))
    return verbs


def plain(troff):
    """troff text as a reader sees its words: no font changes, no
    zero-width or no-hyphenation marks, hyphens and quotes as typed."""
    text = re.sub(r"\\f[BIRP]", "", troff)
    text = text.replace("\\-", "-").replace("\\%", "").replace("\\&", "")
    text = text.replace("\\(lq", '"').replace("\\(rq", '"').replace("\\e", "\\")
    return text


def source_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")


def section(lines, name):
    """The lines of the section .SH NAME (up to the next .SH)."""
    out, inside = [], False
    for line in lines:
        if line.startswith(".SH"):
            inside = shlex.split(line[3:])[0] == name if line[3:].strip() else False
        elif inside:
            out.append(line)
    return out


def tags(lines):
    """The plain text of each .TP paragraph's tag (the line after .TP),
    without the macro that sets its font."""
    out = []
    for i, line in enumerate(lines[:-1]):
        if line.strip() == ".TP":
            tag = lines[i + 1]
            if tag.startswith("."):
                tag = tag.split(None, 1)[1] if " " in tag else ""
                tag = tag.replace('"', "")
            out.append(plain(tag).strip())
    return out


def page_words(path):
    """The page's text, comments left out, as plain words."""
    return plain("\n".join(l for l in source_lines(path) if not l.startswith('.\\"')))


class ManLintTest(unittest.TestCase):
    """What lintian and the formatter see."""

    @unittest.skipUnless(shutil.which("man"), "man (Debian's man-db) is not installed")
    def test_man_warns_of_nothing(self):
        env = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="80")
        for program, path in PAGES.items():
            with self.subTest(page=path):
                proc = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8",
                                       "-Z", path], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, env=env, timeout=60)
                self.assertEqual(proc.stderr.decode(), "")
                self.assertEqual(proc.returncode, 0)

    @unittest.skipUnless(shutil.which("lexgrog"), "lexgrog (Debian's man-db) is not installed")
    def test_lexgrog_finds_the_name_line(self):
        for program, path in PAGES.items():
            with self.subTest(page=path):
                proc = subprocess.run(["lexgrog", path], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, timeout=30)
                self.assertEqual(proc.returncode, 0, proc.stderr.decode())
                self.assertIn('"%s - ' % program, proc.stdout.decode())

    def test_th_names_the_program_in_section_8(self):
        for program, path in PAGES.items():
            with self.subTest(page=path):
                th = [l for l in source_lines(path) if l.startswith(".TH ")]
                self.assertEqual(len(th), 1, th)
                fields = shlex.split(th[0][4:])
                self.assertEqual(fields[0], program.upper())
                self.assertEqual(fields[1], "8")
                self.assertTrue(path.endswith(".8"))

    def test_every_control_line_is_a_known_macro(self):
        """A text line that starts with ' or . would be taken as a request
        (and mostly vanish): such text must be written \\&. instead."""
        for program, path in PAGES.items():
            for n, line in enumerate(source_lines(path), 1):
                with self.subTest(page=path, line=n):
                    self.assertFalse(line.startswith("'"), line)
                    if line.startswith("."):
                        name = re.match(r"\.(\\\"|\S*)", line).group(1)
                        self.assertIn(name, KNOWN_MACROS, line)

    def test_option_hyphens_are_escaped(self):
        """An option's hyphens are written \\- so they print as the ASCII
        hyphen-minus a shell needs, never as a typographic hyphen."""
        for program, path in PAGES.items():
            for n, line in enumerate(source_lines(path), 1):
                if line.startswith('.\\"'):
                    continue
                with self.subTest(page=path, line=n):
                    self.assertNotRegex(line, r"(?<![\\\w])-[A-Za-z-]")


class ManCoversHelpTest(unittest.TestCase):
    """The pages describe what the programs' help lists."""

    def test_dropkiosk_page_describes_every_option(self):
        options = LONG_OPTION.findall(help_text(DAEMON))
        for option in EXPECTED_DAEMON_OPTIONS:
            self.assertIn(option, options, "dropkiosk --help no longer lists " + option)
        lines = source_lines(PAGES["dropkiosk"])
        described = " ".join(tags(section(lines, "OPTIONS")))
        for option in options:
            with self.subTest(option=option):
                self.assertRegex(described, r"(?<![\w-])%s(?![\w-])" % re.escape(option))

    def test_dropkioskctl_page_describes_every_verb(self):
        verbs = verbs_in_help(help_text(CTL))
        for verb in EXPECTED_VERBS:
            self.assertIn(verb, verbs, "dropkioskctl --help no longer lists " + verb)
        lines = source_lines(PAGES["dropkioskctl"])
        described = {tag.split()[0] for tag in tags(section(lines, "VERBS")) if tag}
        for verb in sorted(set(verbs) | set(EXPECTED_VERBS)):
            with self.subTest(verb=verb):
                self.assertIn(verb, described)

    def test_dropkioskctl_page_names_every_option(self):
        text = help_text(CTL)
        options = set(LONG_OPTION.findall(text)) | set(EXPECTED_CTL_OPTIONS)
        words = page_words(PAGES["dropkioskctl"])
        for option in sorted(options):
            with self.subTest(option=option):
                self.assertRegex(words, r"(?<![\w-])%s(?![\w-])" % re.escape(option))

    def test_help_after_a_verb_is_the_same_summary(self):
        """The page says `VERB --help` prints the summary of every verb;
        each verb's help is read here so a verb that grows its own help is
        noticed (and the page told about it)."""
        summary = help_text(CTL)
        for verb in EXPECTED_VERBS:
            with self.subTest(verb=verb):
                self.assertEqual(help_text(CTL, verb), summary)


if __name__ == "__main__":
    unittest.main()

#!/bin/sh
# Rewrites the old citation spellings in Go comments to the in-repo docs:
#   "protocol spec §3.3"     -> "doc/protocol.md §3.3"   (also supervision, messaging)
#   "spec §3.3" (bare)       -> "doc/<doc>.md §3.3"
# A bare citation means the document cited last earlier in the same file,
# else the package's document (gateway/, wire/ -> protocol; profiles/,
# supervise/, doctor/, cmd/ -> supervision; cmd/clawdbot/cli/gateway.go ->
# protocol) — the rule internal/doccheck resolves by, so a rewrite changes
# spellings, never targets. Bare "§N" continuations ("§1.6, §3.1") are
# left alone: they follow the citation before them.
#
# Usage: doc/tools/rewrite-spec-refs.sh [root]   (default: the module root)
# Only comment text is touched (a line's part from its first "//" that is
# at line start or after a blank). Idempotent. Check afterwards with
# `doc/tools/spec-refs.sh -list`, which must list the same targets as before.
set -eu
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"
find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -not -path './vendor/*' |
  LC_ALL=C sort | while read -r f; do
  grep -q '§' "$f" || continue
  perl -CSD -Mutf8 -e '
    my $file = shift; $file =~ s{^\./}{};
    my %fileDefault = ("cmd/clawdbot/cli/gateway.go" => "protocol");
    my @dirDefault = (["gateway/","protocol"],["wire/","protocol"],["profiles/","supervision"],
                      ["supervise/","supervision"],["doctor/","supervision"],["cmd/","supervision"]);
    my $default = $fileDefault{$file};
    if (!defined $default) { for my $d (@dirDefault) { if (index($file, $d->[0]) == 0) { $default = $d->[1]; last } } }
    my @lines = <STDIN>;
    my $last;
    for my $i (0..$#lines) {
      # Split off the comment part: from the first "//" at line start or after a blank.
      next unless $lines[$i] =~ /^(.*?)((?:^|(?<=\s))\/\/.*)$/s;
      my ($code, $c) = ($1, $2);
      # A document name ending this line with "spec §" opening the next one:
      # move the name (and an opening parenthesis) to the next line.
      my ($paren, $name) = $c =~ /\s*(\(?)(protocol|supervision|messaging)[ \t]*$/;
      if (defined $name && $i < $#lines && $lines[$i+1] =~ /^\s*\/\/\s*spec\s+§/) {
        $c =~ s/\s*\(?(?:protocol|supervision|messaging)[ \t]*$//;
        $lines[$i+1] =~ s/^(\s*\/\/\s*)spec(\s+)§/$1$paren$name spec$2§/;
      }
      # "spec" ending this comment line with "§" opening the next one.
      my $next = $i < $#lines ? $lines[$i+1] : "";
      my $splitNext = $next =~ /^\s*\/\/\s*§/;
      my $out = "";
      while ($c =~ /\G(.*?)(?:(doc\/([A-Za-z0-9_-]+)\.md\s+)§|\b(protocol|supervision|messaging)\s+spec(\s+)§|\b((?:STYLE(?:\.md)?|RFC\s*\d+)\s+)§|\bspec(\s+)§|(§)|\b(?:(protocol|supervision|messaging)\s+)?spec(\s*)$)/gcs) {
        $out .= $1;
        if (defined $2)      { $last = $3; $out .= "$2§" }
        elsif (defined $4)   { $last = $4; $out .= "doc/$4.md$5§" }
        elsif (defined $6)   { $out .= "$6§" }
        elsif (defined $7)   { my $d = $last // $default; if (defined $d) { $last = $d; $out .= "doc/$d.md$7§" } else { $out .= "spec$7§" } }
        elsif (defined $8)   { $last //= $default; $out .= "§" }
        else {
          # A line ending in "spec": a citation only when the next line opens with "§".
          my ($name, $ws) = ($9, $10);
          my $txt = (defined $name ? "$name " : "") . "spec$ws";
          if ($splitNext) {
            my $d = $name // $last // $default;
            if (defined $d) { $last = $d; $txt = "doc/$d.md$ws" }
            # The "§" opening the next line is then a continuation.
          }
          $out .= $txt;
        }
      }
      $out .= substr($c, pos($c) // 0);
      $lines[$i] = $code . $out;
    }
    print @lines;
  ' "$f" < "$f" > "$f.rewrite.tmp" && mv "$f.rewrite.tmp" "$f"
done

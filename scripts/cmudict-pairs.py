#!/usr/bin/env python3
"""The CMU Pronouncing Dictionary as pairs for `./panamaformer pairs`: word TAB phonemes.

Reads the dictionary of the npm package cmu-pronouncing-dictionary (ISC; `npm pack
cmu-pronouncing-dictionary@3.0.0`, then `tar xzf` it) and writes one line per word: its
letters, a tab, its first pronunciation's phonemes without stress marks (the 39 phonemes of
ARPAbet, as the usual grapheme-to-phoneme benchmarks use them), separated by spaces. Variant
pronunciations ("word(2)") are left out, so a word has one answer, and so are the comments a few
entries carry ("# foreign").

    python3 scripts/cmudict-pairs.py package/index.js > cmudict.tsv
"""
import re
import sys


def main(path):
    entry = re.compile(r'^\s*"((?:[^"\\]|\\.)*)":\s*"([^"]*)",?\s*$')
    count = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = entry.match(line)
            if not m:
                continue
            word, phonemes = m.group(1), m.group(2)
            if "(" in word or not word:
                continue
            phonemes = phonemes.split("#")[0]  # a few entries carry a comment: "... # place, french"
            plain = " ".join(re.sub(r"\d", "", p) for p in phonemes.split())
            sys.stdout.write(f"{word}\t{plain}\n")
            count += 1
    print(f"{count} words", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])

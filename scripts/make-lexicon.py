#!/usr/bin/python3
"""data/lexicon/english-words.txt: the word list of the `stories` task's verifier (src/tasks/stories.ts), from Debian's
`wamerican` package (SCOWL, /usr/share/dict/american-english; see data/lexicon/README.md for its licence).

Run:  apt-get install wamerican && /usr/bin/python3 scripts/make-lexicon.py      (deterministic)
Keeps every entry lowercased that is letters only, or letters plus one of the contractions 't 're 've 'll 'd 'm; drops
possessives ('s, which the verifier strips itself) and single letters other than "a" and "i".
"""
import os
import re

SRC = '/usr/share/dict/american-english'
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'lexicon', 'english-words.txt')

words = set()
for line in open(SRC, encoding='utf-8'):
    w = line.strip().lower()
    if re.fullmatch(r"[a-z]+|[a-z]+'(t|re|ve|ll|d|m)", w) and (len(w) > 1 or w in ('a', 'i')):
        words.add(w)
with open(OUT, 'w', encoding='utf-8') as fh:
    fh.write('\n'.join(sorted(words)) + '\n')
print(f'{len(words)} words -> {os.path.relpath(OUT)}')

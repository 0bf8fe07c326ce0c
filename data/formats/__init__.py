"""Read and write the corpus formats zhtag trains on; every format becomes `Sentence`s.

    seg    one sentence a line, words separated by whitespace (U+3000 included)
    pos    People's Daily: `word/TAG` tokens separated by whitespace
    conll  `char TAG` a line (tab or spaces), a blank line between sentences
    jsonl  one JSON object a line: CLUENER `{"text", "label": {TYPE: {mention: [[start, end]]}}}`
           with END INCLUSIVE, or `{"text", "entities": [{"start", "end", "type"}]}` with end
           exclusive

Choices a user of these files should know about:

- A conll file is either segmentation (every tag one of plain `B M E S`: the spans are words,
  unlabelled) or entities (`O` and `PREFIX-TYPE` tags) in BIO, BIOES or BMES. The reading is
  chosen once for the whole file, not per sentence, because a BIO sentence and a BMES sentence
  without `M`/`E`/`S` tags look alike: it is the one that the most sentences are valid in, so a
  stray tag of another scheme (one `E-ORG` in a BIO file) is an error on its own line, and
  `skip_bad` drops its sentence alone. A tie goes to the reading the tags name (any `M`: BMES,
  else any `E` or `S`: BIOES). A line's character may be whitespace other than a space or tab:
  text holds ideographic spaces (U+3000), tagged `O` like any other character.
- BIO is repaired the way conlleval does it: an `I-X` that does not continue an `X` entity (after
  `O`, or after an entity of another type) starts a new entity. BIOES and BMES have no such
  convention, so an order they forbid is an error on the line of the offending tag.
- In `pos` with `entities_from_pos`, consecutive `nr` tokens form one person, since People's
  Daily splits surname and given name (`王/nr  小明/nr`); two names written side by side with
  nothing between them therefore merge.
- Files are decoded line by line so that invalid UTF-8 is reported on its line. With
  `skip_bad`, a bad line is dropped and counted; in conll the whole sentence around it is dropped
  and counted once, since a sentence with a hole in it would teach the wrong tags
  (`Corpus.skipped_text` says which was counted). A file left with no sentence is an error.
- A message quotes at most `data.errors.QUOTE_LIMIT` characters of a field, with the field's
  length: a malformed line can be megabytes long.
"""
from data.formats.pos import POS_ENTITIES
from data.formats.read import Corpus, detect_format, read_corpus, read_raw
from data.formats.source import FORMATS
from data.formats.write import write_corpus

__all__ = ["FORMATS", "POS_ENTITIES", "Corpus", "detect_format", "read_corpus", "read_raw", "write_corpus"]

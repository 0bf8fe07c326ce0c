"""`zhtag`: train, evaluate and tag from the command line.

Every error zhtag raises on purpose is printed as one line with a non-zero exit; a traceback
would only mean a bug.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, NoReturn

from data.errors import CheckpointError, CorpusError, InputError, ZhtagError
from data.formats import FORMATS
from data.script import SCRIPTS
from model.config import ANSWERS, DEV_RATIO, TASKS, ModelConfig, TrainConfig, check_answers, code_version, is_tag_prefix
from service.lines import BREAKS, Piece, read_pieces, rejoined, until_bad

if TYPE_CHECKING:
    from service.settings import Settings
    from data.corpus import Sentence, Span
    from model.spans import SpanArrays
    from model.tagger import Tagger
    from model.train import TrainOptions

from model.spans import confident



class _Parser(argparse.ArgumentParser):
    """Usage mistakes get the one line every other error gets; `--help` still shows the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"zhtag: error: {message}\n")


class _Version(argparse.Action):
    """`--version`, read from the installed package's metadata only when asked for: the
    metadata lookup would cost every other command's start."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print zhtag's version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(f"zhtag {code_version()}")
        parser.exit()


SCRIPT_HELP = "traditional input is tagged through a character-by-character mapping to simplified (auto: detected per line)"


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="zhtag", description="Chinese word segmentation, POS tagging and NER.")
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train(sub)
    _add_pretrain(sub)
    _add_eval(sub)
    for name, text in (("segment", "words separated by spaces"), ("ner", "entities as JSON lines"), ("pos", "word/TAG tokens")):
        _add_tag(sub, name, text)
    _add_models(sub)
    _add_serve(sub)
    return parser


def _add_train(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    t = sub.add_parser("train", help="train a model (or fine-tune one with --from)")
    t.add_argument("--task", required=True, choices=TASKS, help="segmentation, entities, or joint segmentation and POS")
    t.add_argument("--train", required=True, type=Path, metavar="FILE", help="training corpus (seg, pos, conll or jsonl: README, 'Corpus formats')")
    t.add_argument("--dev", type=Path, metavar="FILE", help="dev corpus, for early stopping and the promotion gate")
    t.add_argument("--dev-ratio", type=float, help=f"without --dev: the share of --train set apart as dev (default {DEV_RATIO})")
    t.add_argument("--from", dest="parent", metavar="REF", help="fine-tune this stored or shipped model (name or name@N)")
    t.add_argument("--labels", choices=["keep", "replace"], default="keep", help="with --from: keep the parent's labels and add new ones, or replace them")
    t.add_argument("--name", help="store the new version under this name (default: --from's name, else the task's)")
    t.add_argument("--no-auto-promote", dest="auto_promote", action="store_false", help="store the new version inactive")
    t.add_argument("--min-gain", type=float, default=0.0, help="dev F1 points over the version now active under --name needed to replace it")
    t.add_argument("--format", choices=FORMATS, help="the corpora's format (default: detected from each file's first lines)")
    t.add_argument("--skip-bad", action="store_true", help="skip malformed lines and report how many")
    t.add_argument("--epochs", type=_positive, default=TrainConfig.epochs, help="most epochs to train (default: %(default)s)")
    t.add_argument("--patience", type=_positive, default=TrainConfig.patience, help="stop after this many epochs without a better dev F1 (default: %(default)s)")
    t.add_argument("--seed", type=int, default=TrainConfig.seed, help="seeds initialisation, shuffling and dropout; not the dev split (default: %(default)s)")
    t.add_argument("--lr", type=_rate, default=TrainConfig.lr, help="Adam's learning rate at the first epoch; it falls by 0.9 an epoch (default: %(default)s)")
    t.add_argument("--hidden", type=_positive, help=f"LSTM units per direction (new models only; default {ModelConfig.hidden})")
    t.add_argument("--char-dim", type=_positive, help=f"character embedding size (new models only; default {ModelConfig.char_dim})")
    t.add_argument("--bigram-dim", type=_positive, help=f"bigram embedding size, per side (new models only; default {ModelConfig.bigram_dim})")
    t.add_argument("--dropout", type=_dropout, help=f"dropout on the LSTM's inputs and outputs, and between its layers (new models only; default {ModelConfig.dropout})")
    t.add_argument("--layers", type=_positive, help="stacked bidirectional LSTM layers (new models only; default 1)")
    t.add_argument("--batch-chars", type=_positive, default=TrainConfig.batch_chars, help="padded characters per training step (default: %(default)s)")
    t.add_argument("--gazetteers", type=_tag_prefixes, metavar="TAGS", help="comma-separated jieba POS tag prefixes, e.g. nr,ns,nt: their words in jieba's dictionary get flags of their own (new models only)")
    t.add_argument("--embeddings", type=Path, metavar="DIR", help="start a new model from `zhtag pretrain`'s vectors")
    t.add_argument("--word-vectors", action="store_true", help="with --embeddings: feed each character the pooled vectors of the lexicon words it begins, lies inside and ends (new models only)")
    t.add_argument("--raw", type=Path, metavar="FILE", help="raw text, a text a line, that --teacher tags into more training sentences (dev stays unread)")
    t.add_argument("--teacher", metavar="REF", help="the model that tags --raw: one of the task (for cws, a cws or pos model)")
    t.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="auto: a GPU where there is one")
    t.add_argument("--resume", action="store_true", help="continue a killed run of the same --name")
    t.add_argument("--dry-run", action="store_true", help="train one batch end to end, store nothing")


def _add_pretrain(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pt = sub.add_parser("pretrain", help="pretrain character and bigram embeddings on raw text, for `train --embeddings`")
    pt.add_argument("corpora", nargs="+", type=Path, metavar="FILE", help="text or any corpus zhtag reads; only its text is used")
    pt.add_argument("--out", required=True, type=Path, metavar="DIR", help="where the vectors are written, for `train --embeddings DIR`")
    pt.add_argument("--char-dim", type=_positive, default=100, help="character vector size (default: %(default)s)")
    pt.add_argument("--bigram-dim", type=_positive, default=50, help="bigram vector size (default: %(default)s)")
    pt.add_argument("--word-dim", type=_positive, default=None, help="also vectors of jieba's words of this size, for `train --word-vectors` (default: none)")
    pt.add_argument("--epochs", type=_positive, default=5, help="skip-gram passes over the text (default: %(default)s)")
    pt.add_argument("--no-jieba-words", dest="jieba_words", action="store_false", help="leave jieba's dictionary words out of the text")


def _add_eval(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    e = sub.add_parser("eval", help="score a model on a test corpus, as JSON")
    e.add_argument("--model", required=True, metavar="REF", help="a stored or shipped model (name or name@N)")
    e.add_argument("--test", required=True, type=Path, metavar="FILE", help="a corpus of the model's task, with gold words or entities")
    e.add_argument("--format", choices=FORMATS, help="the test's format (default: detected)")
    e.add_argument("--script", choices=SCRIPTS, default="auto", help=SCRIPT_HELP)


def _add_tag(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str) -> None:
    """`segment`, `ner` or `pos`, whose output is `text`."""
    p = sub.add_parser(name, help=f"tag each input line: {text}")
    p.add_argument("file", nargs="?", default="-", help="UTF-8 text, one line per input; - for stdin")
    p.add_argument("--model", default=ANSWERS[name][0], metavar="REF", help=f"a {' or '.join(ANSWERS[name])} model")
    p.add_argument("--user-dict", type=Path, action="append", default=[], help="jieba-format dictionary")
    p.add_argument("--dict-mode", choices=["prefer", "force"], default="prefer",
                   help="prefer: the model weighs the dictionary; force: its words are kept whole where they cut no other "
                        "(ner: its words tagged nr, ns, nt or an entity type are held to that entity)")
    p.add_argument("--threads", type=_positive, default=os.cpu_count() or 1, help="tagging threads (default: one per core)")
    p.add_argument("--script", choices=SCRIPTS, default="auto", help=SCRIPT_HELP)
    if name == "ner":
        p.add_argument("--min-score", type=_probability, default=0.0, help="leave out entities the model gives a lower probability")


def _add_models(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    m = sub.add_parser("models", help="list stored models, versions and metrics; activate or roll one back")
    m.add_argument("action", nargs="?", choices=["list", "activate", "rollback", "verify"], default="list",
                   help="verify: check every version's files against its manifest")
    m.add_argument("name", nargs="?", help="activate: the version to make active (name@N); rollback: the model to roll back; list, verify: that model alone")


def _add_serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("serve", help="run the HTTP API (other settings from ZHTAG_* variables)")
    s.add_argument("--host", help="address to listen on (default: $ZHTAG_HOST, else 127.0.0.1)")
    s.add_argument("--port", type=int, help="port to listen on (default: $ZHTAG_PORT, else 8000)")
    s.add_argument("--workers", type=int, help="server processes (default: $ZHTAG_WORKERS, else 1)")


# Each command imports what it needs when it runs: `zhtag segment` starts without loading
# the training, evaluation and HTTP stacks.


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return int(value)


def _tag_prefixes(value: str) -> list[str]:
    tags = value.split(",") if value else []
    if not all(map(is_tag_prefix, tags)):
        raise argparse.ArgumentTypeError(f"expected comma-separated POS tags such as nr,ns,nt, got {value!r}")
    return tags


def _number(holds: Callable[[float], bool], expected: str) -> Callable[[str], float]:
    """An argparse type: a number for which `holds` is true (never NaN), else an error saying `expected`."""

    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not holds(number):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value!r}")
        return number

    return parse


_rate = _number(lambda x: 0.0 < x < 1.0, "a learning rate between 0 and 1")
_probability = _number(lambda x: 0.0 <= x <= 1.0, "a probability from 0 to 1")
_dropout = _number(lambda x: 0.0 <= x < 1.0, "a dropout rate from 0 up to (not including) 1")


def _train(args: argparse.Namespace, out: IO[str]) -> None:
    from model.distributed import main_process
    from model.train import train

    options = _train_options(args)
    try:
        result = train(options, log=lambda line: print(line, file=sys.stderr))
    except CorpusError as err:
        if not err.line or args.skip_bad:
            raise
        raise CorpusError(err.path, err.line, f"{err.problem} (--skip-bad skips such lines and reports how many)") from None
    except KeyboardInterrupt:
        print(f"zhtag: {_stopped(options)}", file=sys.stderr)
        raise
    if main_process():
        print(json.dumps({"model": result.ref, **result.metrics}, ensure_ascii=False), file=out)


def _train_options(args: argparse.Namespace) -> TrainOptions:
    """The options `zhtag train` was given, refusing a dev ratio beside a dev file, which would
    change nothing (`TrainOptions` cannot tell its default from a ratio given)."""
    from model.train import TrainOptions

    if args.dev is not None and args.dev_ratio is not None:
        raise InputError("--dev FILE is the dev set and --dev-ratio splits one off --train: give one of them")
    cfg = TrainConfig(epochs=args.epochs, patience=args.patience, seed=args.seed, lr=args.lr, batch_chars=args.batch_chars)
    sizes = {"hidden": args.hidden, "char_dim": args.char_dim, "bigram_dim": args.bigram_dim, "dropout": args.dropout,
             "layers": args.layers, "gazetteers": args.gazetteers}
    overrides = {k: v for k, v in sizes.items() if v is not None}
    return TrainOptions(
        task=args.task, train=args.train, dev=args.dev,
        dev_ratio=DEV_RATIO if args.dev_ratio is None else args.dev_ratio, parent=args.parent, labels=args.labels,
        auto_promote=args.auto_promote, min_gain=args.min_gain, name=args.name, format=args.format, skip_bad=args.skip_bad,
        device=args.device, resume=args.resume, dry_run=args.dry_run, embeddings=args.embeddings, word_vectors=args.word_vectors,
        raw=args.raw, teacher=args.teacher, train_config=cfg, model_overrides=overrides,
    )


def _stopped(options: TrainOptions) -> str:
    """What Ctrl-C leaves behind: the last completed epoch, which --resume continues after, if
    one was saved (by this run, or by an earlier one this run had not discarded yet)."""
    from model.store import Store
    from model.promotion import run_name
    from model.trainstate import TrainState

    name = run_name(options)
    epoch = TrainState.in_store(Store().root, name).saved_epoch()
    if epoch is None:
        return f"training stopped before an epoch of {name} was saved: there is nothing to resume"
    return f"training stopped; `zhtag train ... --resume` with the same options continues {name} after epoch {epoch}"


def _pretrain(args: argparse.Namespace, out: IO[str]) -> None:
    from data.jiebadict import jieba_lexicon
    from model.embeddings import pretrain

    texts = [text for path in args.corpora for text in _pretraining_texts(path)]
    if args.jieba_words:
        texts += sorted(jieba_lexicon().words)
    embeddings = pretrain(texts, args.char_dim, args.bigram_dim, word_dim=args.word_dim or 0, epochs=args.epochs)
    embeddings.save(args.out)
    counts = {kind: len(getattr(embeddings, kind)) for kind in ("chars", "bigrams", "words")}
    print(json.dumps({"out": str(args.out), "texts": len(texts), **counts}), file=out)


def _pretraining_texts(path: Path) -> list[str]:
    """The texts of one corpus, its malformed lines skipped (pretraining reads the text alone)
    but counted on stderr: a file in the wrong encoding would otherwise give vectors for its
    ASCII digits and look done. A file of which nothing can be read is refused (read_corpus)."""
    from data.formats import read_corpus

    corpus = read_corpus(path, skip_bad=True)
    if corpus.skipped:
        print(f"zhtag: warning: {path}: skipped {corpus.skipped_text}", file=sys.stderr)
    return [s.text for s in corpus.sentences]


def _eval(args: argparse.Namespace, out: IO[str]) -> None:
    """Scores as `zhtag segment` would tag the test text: traditional script goes through the
    same mapping (`--script`), and its words count as seen or unseen in simplified form."""
    from data.script import for_model
    from model.evaluate import evaluate
    from model.tagger import Tagger
    from model.corpora import sentences_for

    tagger = Tagger.load(args.model)
    gold = sentences_for(args.test, tagger.config.task, args.format)
    for line in _eval_warnings(tagger, gold, args.test):
        print(f"zhtag: warning: {line}", file=sys.stderr)
    seen = [replace(s, text=text) for s, text in zip(gold, for_model([s.text for s in gold], args.script))]  # as the tagger reads it, so OOV words are counted in its script too
    scores = evaluate(tagger.config.task, seen, tagger.tag([s.text for s in seen]), tagger.train_words)
    print(json.dumps({"model": tagger.ref, "test": str(args.test), **scores}, ensure_ascii=False), file=out)


_POS_TOKEN = re.compile(r"./[A-Za-z]+$")  # word/TAG, as a segmented corpus read as seg holds it


def _eval_warnings(tagger: Tagger, gold: list[Sentence], test: Path) -> list[str]:
    """Why a score about to be printed may mean nothing: a test file of unsegmented lines
    reads as one word a line, and entity types or POS tags the model does not tag count as
    missed (the same warning training gives of its dev set)."""
    from model.evaluate import labels_of, unlearned_labels

    if tagger.config.task in ("cws", "pos") and all(len(s.spans) <= 1 for s in gold):
        return [f"every sentence of {test} is one word: is it segmented (words separated by spaces)?"]
    words = [s.text[w.start : w.end] for s in gold for w in s.spans]
    if sum(map(bool, map(_POS_TOKEN.search, words))) > len(words) / 2:
        return [f"most words of {test} end in /TAG, read as part of the word: is it a pos corpus (--format pos)?"]
    untagged = unlearned_labels(labels_of(gold), tagger, "test", f"{tagger.ref} tags")
    return [untagged] if untagged else []


def _format_pos(text: str, spans: list[Span]) -> str:
    return " ".join(f"{text[s.start : s.end]}/{s.label}" for s in spans)


LINE_BREAKS_IN_JSON = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}  # JSON leaves them raw; str.splitlines() breaks at them


def _format_ner(text: str, spans: list[Span], min_score: float = 0.0) -> str:
    """One JSON line per text: the line breaks JSON may leave raw are escaped, so that any
    line-splitting reader finds one record a line."""
    entities = [{"text": text[s.start : s.end], "type": s.label, "start": s.start, "end": s.end, "score": s.score} for s in confident(spans, min_score)]
    return json.dumps({"text": text, "entities": entities}, ensure_ascii=False).translate(LINE_BREAKS_IN_JSON)


def _writer(args: argparse.Namespace) -> Callable[[list[str], SpanArrays], str]:
    """Output lines of a chunk: segmented lines straight from the arrays (no Python step per
    word: the hot path), else one formatted line per text."""
    if args.command == "segment":
        return lambda texts, found: found.segmented(texts)
    line = _format_pos if args.command == "pos" else partial(_format_ner, min_score=args.min_score)
    return lambda texts, found: "".join(line(text, spans) + "\n" for text, spans in zip(texts, found.lists()))


def _tag(args: argparse.Namespace, out: IO[str]) -> None:
    """Torch and the model live until exit, so once loaded they are frozen out of the garbage
    collector: its later passes, and the one at interpreter exit above all, skip their million
    objects (0.4 s of a 3 s `zhtag segment` run on the 883k-character file)."""
    from data.dictfile import read_dictionary
    from data.script import for_model, user_lexicon
    from model.collector import load_tagger

    tagger = load_tagger(args.model, freeze=True)
    check_answers(tagger, args.command)
    from model.parallel import map_chunks  # after the load: it imports torch, which the load did with the collector paused

    words = {w: t for path in args.user_dict for w, t in read_dictionary(path).items()}
    _warn_unused(words)
    user_words = user_lexicon(words, force=args.dict_mode == "force", tags=words) if words else None
    write = _writer(args)

    def work(pieces: list[Piece]) -> str:
        texts = [piece.text for piece in pieces]
        return rejoined(write(texts, tagger.span_arrays(for_model(texts, args.script), [user_words] * len(texts))), pieces)

    def cut(text: str) -> int:
        """Where a piece of a long line ends: in its second half, as the model reads it (the
        lexicon is in simplified script), outside every word and character cluster."""
        return tagger.cut_point(for_model([text], args.script)[0], len(text) // 2, user_words, BREAKS)

    problems: list[InputError] = []
    pieces = until_bad(read_pieces(args.file, whole_lines=args.command == "ner", cut=cut), problems)
    for text in map_chunks(work, pieces, args.threads, size=lambda piece: len(piece.text)):
        out.write(text)
    if problems:
        raise problems[0]


def _warn_unused(words: Iterable[str]) -> None:
    """Say on stderr which dictionary words the lexicon cannot use (one character: nothing to
    keep whole; longer than its longest match), rather than leave them silently without effect."""
    from data.lexicon import MAX_WORD_LEN, unusable

    unused = unusable(words)
    if unused:
        print(f"zhtag: warning: {len(unused)} dictionary word(s) of one character or over {MAX_WORD_LEN} characters are not used, e.g. {unused[0]!r}", file=sys.stderr)


def _models(args: argparse.Namespace, out: IO[str]) -> None:
    from model.store import Store

    if args.action in ("activate", "rollback"):
        if not args.name:
            raise InputError(f"zhtag models {args.action} {'NAME@N' if args.action == 'activate' else 'NAME'}: name the model")
        store = Store()
        print(f"{store.activate(args.name) if args.action == 'activate' else store.rollback(args.name)} is active", file=out)
        return
    if args.action == "verify":
        report = Store().verify(args.name)
        for ref, problem in report.items():
            print(f"ok      {ref}" if problem is None else f"FAILED  {ref}: {problem}", file=out)
        failed = sum(problem is not None for problem in report.values())
        if failed:
            raise CheckpointError(f"{failed} of {len(report)} versions failed verification")
        return
    for info in Store().list(args.name):
        if info.problem:
            print(f"! {info.name}: {info.problem}", file=out)
        elif info.active is None:
            print(f"  {info.name}: no version is active (zhtag models activate {info.name}@N serves one)", file=out)
        for version in info.versions:
            active = "*" if version == info.active else " "
            metrics = info.metrics.get(version, {})
            gate = metrics.get("promotion", {})
            held_back = f"  (not promoted: {gate['reason']})" if gate.get("promoted") is False and version != info.active else ""
            print(f"{active} {info.name}@{version}  dev f1 {metrics.get('dev', {}).get('f1', '-')}{held_back}", file=out)


def _serve(args: argparse.Namespace, out: IO[str]) -> None:
    """Flags become ZHTAG_* variables so every worker process builds the same Settings."""
    import uvicorn
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from service.settings import Settings, unknown_variables

    for flag in ("host", "port", "workers"):
        if getattr(args, flag) is not None:
            os.environ[f"ZHTAG_{flag.upper()}"] = str(getattr(args, flag))
    try:
        settings = Settings()
        _check_serving(settings)
    except SettingsError as err:
        raise InputError(f"invalid settings: {err}") from None
    except ValidationError as err:
        problems = "; ".join(f"{'ZHTAG_' + '.'.join(map(str, e['loc'])).upper() if e['loc'] else 'settings'}: {e['msg']}" for e in err.errors())
        raise InputError(f"invalid settings: {problems}") from None
    for line in unknown_variables(os.environ):
        print(f"zhtag: warning: {line}", file=sys.stderr)
    with _metrics_dir(settings.workers):
        uvicorn.run(
            "service.app:create_app", factory=True, host=settings.host, port=settings.port, workers=settings.workers, log_config=_log_config(),
            timeout_graceful_shutdown=settings.shutdown_timeout_s, limit_concurrency=settings.max_connections,
        )


def _log_config() -> dict:
    """uvicorn's logging, plus zhtag's own loggers (model swaps, store problems, jobs) on
    stderr with time and level: left to Python's defaults they showed warnings alone, bare."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["zhtag"] = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    config["handlers"]["zhtag"] = {"class": "logging.StreamHandler", "formatter": "zhtag", "stream": "ext://sys.stderr"}
    config["loggers"]["zhtag"] = {"handlers": ["zhtag"], "level": "INFO", "propagate": False}
    return config


def _check_serving(settings: "Settings") -> None:
    """What the workers would each find wrong at start-up, found once here and said in a line."""
    from model.store import Store
    from model.device import pick_device

    pick_device(settings.device)
    store = Store()
    for ref in settings.models:
        store.locate(ref)


@contextmanager
def _metrics_dir(workers: int) -> Iterator[None]:
    """Several workers share their Prometheus values through a directory (see
    service/metrics.py); one the user set is kept, else a fresh one lives as long as the server."""
    if workers == 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="zhtag-metrics-") as directory:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        try:
            yield
        finally:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]


COMMANDS = {"train": _train, "pretrain": _pretrain, "eval": _eval, "segment": _tag, "ner": _tag, "pos": _tag, "models": _models, "serve": _serve}


def main(argv: list[str] | None = None, out: IO[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        COMMANDS[args.command](args, out or sys.stdout)
    except ZhtagError as err:
        print(f"zhtag: error: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader left (`| head`): stop quietly, as a tool killed by SIGPIPE would
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush cannot fail again
        return 141
    except OSError as err:
        print(f"zhtag: error: {f'{err.filename}: ' if err.filename else ''}{err.strerror or err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

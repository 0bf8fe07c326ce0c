"""The `zhtag` command line, end to end on tiny models trained inside the test."""
from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from data.text import SEPARATOR
from model.store import Store
from model.tagger import Tagger
from model.train import Trainer
from tests.service.conftest import FIXTURES, TINY, free_port, run

FINE_TUNE = ["--epochs", "2", "--dev-ratio", "0.25"]  # TINY less the new model's size, which a fine-tuned model keeps


@pytest.fixture(autouse=True)
def use_store(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHTAG_STORE", str(store))


def test_train_prints_the_new_reference_and_dev_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHTAG_STORE", str(tmp_path))
    code, out = run("train", "--task", "cws", "--train", str(FIXTURES / "train.pos.txt"), "--name", "mine", *TINY)
    result = json.loads(out)
    assert code == 0
    assert result["model"] == "mine@1"
    assert {"precision", "recall", "f1", "oov_recall"} <= set(result["dev"])


def test_train_sizes_a_new_model_as_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHTAG_STORE", str(tmp_path))
    code, out = run("train", "--task", "cws", "--train", str(FIXTURES / "train.pos.txt"), "--name", "sized", "--dropout", "0", "--char-dim", "12",
                    "--layers", "2", "--batch-chars", "900", *TINY)
    config = Tagger.load("sized", Store(root=tmp_path)).config
    assert code == 0 and (config.dropout, config.char_dim, config.hidden, config.layers) == (0, 12, 8, 2)
    assert json.loads(out)["train"]["batch_chars"] == 900


def test_train_gives_a_new_model_the_gazetteers_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHTAG_STORE", str(tmp_path))
    code, _ = run("train", "--task", "ner", "--train", str(FIXTURES / "train.bio"), "--name", "gaz", "--gazetteers", "nr,ns", *TINY)
    tagger = Tagger.load("gaz", Store(root=tmp_path))
    assert code == 0 and tagger.config.gazetteers == ["nr", "ns"]
    flags = tagger.encoder.encode(["王小明在北京"]).batch([0]).lexicon[0]  # (6, jieba 3 + nr 3 + ns 3)
    assert flags.shape == (6, 9) and flags[4:, 6:].tolist() == [[1, 0, 0], [0, 0, 1]], "北京 is in jieba's ns words"
    assert all(span.end <= 6 for span in tagger.tag(["王小明在北京"])[0])


def test_train_starts_at_the_learning_rate_asked_and_records_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHTAG_STORE", str(tmp_path))
    code, out = run("train", "--task", "cws", "--train", str(FIXTURES / "train.pos.txt"), "--lr", "5e-4", *TINY)
    assert code == 0 and json.loads(out)["train"]["lr"] == 5e-4


def test_pretrained_embeddings_start_a_new_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHTAG_STORE", str(tmp_path / "store"))
    code, out = run("pretrain", str(FIXTURES / "train.pos.txt"), str(FIXTURES / "input.txt"), "--out", str(tmp_path / "emb"),
                    "--char-dim", "8", "--bigram-dim", "4", "--word-dim", "3", "--epochs", "1", "--no-jieba-words")
    assert code == 0 and json.loads(out)["chars"] > 0 and json.loads(out)["words"] > 0
    code, out = run("train", "--task", "cws", "--train", str(FIXTURES / "train.pos.txt"), "--embeddings", str(tmp_path / "emb"), "--word-vectors", *TINY)
    assert code == 0 and json.loads(out)["embeddings"]["path"] == str(tmp_path / "emb")
    with pytest.raises(SystemExit) as stop:
        run("pretrain", str(FIXTURES / "input.txt"), "--out", str(tmp_path / "bad"), "--word-dim", "0")
    assert stop.value.code == 2, "a word size must be positive"


def test_dry_run_stores_nothing_and_prints_the_shape_of_a_real_runs_output(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ZHTAG_STORE", str(tmp_path))
    code, out = run("train", "--task", "ner", "--train", str(FIXTURES / "train.bio"), "--dry-run", *TINY)
    result = json.loads(out)
    assert code == 0 and result["model"] is None and result["dry_run"] is True
    assert {"precision", "recall", "f1"} <= set(result["dev"]) and result["train"]["epochs"] == 2
    assert not (tmp_path / "ner").exists()


@pytest.mark.parametrize(("flags", "named"), [
    (["--hidden", "32", "--dropout", "0.5", "--layers", "3"], "--hidden, --dropout, --layers shape"),
    (["--gazetteers", "nr"], "--gazetteers shapes"),
    (["--char-dim", "8", "--word-vectors"], "--char-dim, --word-vectors shape"),
])
def test_train_refuses_a_new_models_sizes_for_a_model_fine_tuned_from_a_parent(flags: list[str], named: str, capsys) -> None:
    """The fine-tuned model keeps its parent's network: the flags would change nothing."""
    code, _ = run("train", "--task", "cws", "--train", str(FIXTURES / "train.pos.txt"), "--from", "tcws", *flags, "--dry-run")
    assert code == 1
    refusal = f"zhtag: error: {named} a new model; one fine-tuned --from tcws keeps its parent's: leave them out\n"
    assert capsys.readouterr().err == refusal


def test_train_refuses_a_dev_ratio_beside_a_dev_file(capsys) -> None:
    """--dev-ratio would be ignored; the default ratio applies only without --dev."""
    dev = ["--dev", str(FIXTURES / "input.txt"), "--dev-ratio", "0.05"]
    assert run("train", "--task", "cws", "--train", str(FIXTURES / "train.pos.txt"), *dev)[0] == 1
    refusal = "zhtag: error: --dev FILE is the dev set and --dev-ratio splits one off --train: give one of them\n"
    assert capsys.readouterr().err == refusal


@pytest.mark.parametrize(("stopped_in", "said"), [
    (1, "training stopped; `zhtag train ... --resume` with the same options continues cc after epoch 1"),
    (0, "training stopped before an epoch of cc was saved: there is nothing to resume"),
])
def test_ctrl_c_during_training_says_what_resume_continues_and_exits_130(
    stopped_in: int, said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZHTAG_STORE", str(tmp_path))
    run_epoch = Trainer.run_epoch

    def interrupted(self: Trainer, epoch: int, max_batches: int | None = None) -> float:
        if epoch == stopped_in:
            raise KeyboardInterrupt
        return run_epoch(self, epoch, max_batches)

    monkeypatch.setattr(Trainer, "run_epoch", interrupted)
    code, out = run("train", "--task", "cws", "--train", str(FIXTURES / "train.pos.txt"), "--name", "cc", *TINY)
    assert code == 130 and out == ""
    assert capsys.readouterr().err.splitlines()[-1] == f"zhtag: {said}"


def test_pretrain_counts_the_lines_it_skips_and_refuses_a_file_it_cannot_read(tmp_path: Path, capsys) -> None:
    """A corpus in another encoding would otherwise give vectors for its ASCII digits alone."""
    mixed, gbk = tmp_path / "mixed.txt", tmp_path / "gbk.txt"
    good = (FIXTURES / "train.pos.txt").read_bytes()
    mixed.write_bytes(good + "我们/r  去/v  公园/n\n".encode("gbk"))
    gbk.write_bytes(good.decode().encode("gbk"))
    emb = ["--out", str(tmp_path / "emb"), "--char-dim", "4", "--bigram-dim", "2", "--epochs", "1", "--no-jieba-words"]
    code, out = run("pretrain", str(mixed), *emb)
    assert code == 0 and json.loads(out)["texts"] == len(good.decode().splitlines())
    assert capsys.readouterr().err == f"zhtag: warning: {mixed}: skipped 1 malformed line(s)\n"
    code, _ = run("pretrain", str(mixed), str(gbk), *emb)
    err = capsys.readouterr().err.splitlines()
    assert code == 1 and len(err) == 2 and err[1].startswith(f"zhtag: error: {gbk}") and "no sentences" in err[1]


def test_segment_writes_one_line_per_input_line_and_keeps_every_character() -> None:
    code, out = run("segment", str(FIXTURES / "input.txt"), "--model", "tcws")
    lines = (FIXTURES / "input.txt").read_text(encoding="utf-8").splitlines()
    got = out.splitlines()
    assert code == 0 and len(got) == len(lines)
    assert got[1] == ""
    for line, words in zip(lines, got):
        assert words.replace(" ", "") == "".join(line.split())


def test_segment_on_several_threads_keeps_input_order(tmp_path: Path) -> None:
    base = (FIXTURES / "input.txt").read_text(encoding="utf-8").splitlines()
    lines = [f"{i}{base[i % len(base)]}" for i in range(2500)]  # three chunks of at most 1,000 lines
    text = tmp_path / "many.txt"
    text.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, alone = run("segment", str(text), "--model", "tcws", "--threads", "1")
    code_many, many = run("segment", str(text), "--model", "tcws", "--threads", "3")
    assert code == code_many == 0 and many == alone
    assert [words.replace(" ", "") for words in many.splitlines()] == ["".join(line.split()) for line in lines]


def test_segment_refuses_a_thread_count_below_one() -> None:
    with pytest.raises(SystemExit) as stop:
        run("segment", str(FIXTURES / "input.txt"), "--threads", "0")
    assert stop.value.code == 2


def test_eval_scores_traditional_text_as_segment_tags_it(tmp_path: Path) -> None:
    """The gold corpus written in traditional characters scores as its simplified form."""
    import opencc

    simplified = (FIXTURES / "train.pos.txt").read_text(encoding="utf-8")
    traditional = opencc.OpenCC("s2t").convert(simplified)
    assert len(traditional) == len(simplified) and traditional != simplified
    (tmp_path / "trad.pos.txt").write_text(traditional, encoding="utf-8")
    score = lambda path, *script: json.loads(run("eval", "--model", "tcws", "--test", str(path), *script)[1])  # noqa: E731
    as_simplified = {k: v for k, v in score(FIXTURES / "train.pos.txt").items() if k != "test"}
    assert {k: v for k, v in score(tmp_path / "trad.pos.txt").items() if k != "test"} == as_simplified
    assert score(tmp_path / "trad.pos.txt", "--script", "simplified")["oov_rate"] > as_simplified["oov_rate"]


def test_traditional_input_is_segmented_as_its_simplified_form_and_keeps_its_characters(tmp_path: Path) -> None:
    text = tmp_path / "in.txt"
    text.write_text("我們在臺灣學習漢語。\n我们在台湾学习汉语。\n", encoding="utf-8")
    code, out = run("segment", str(text), "--model", "cws")
    traditional, simplified = out.splitlines()
    assert code == 0 and traditional.replace(" ", "") == "我們在臺灣學習漢語。"
    assert [len(w) for w in traditional.split()] == [len(w) for w in simplified.split()]
    code, kept = run("segment", str(text), "--model", "cws", "--script", "simplified")
    assert code == 0 and kept.splitlines()[0].replace(" ", "") == "我們在臺灣學習漢語。"


def test_ner_min_score_leaves_out_less_likely_entities() -> None:
    code, every = run("ner", str(FIXTURES / "input.txt"), "--model", "tner")
    code_one, certain = run("ner", str(FIXTURES / "input.txt"), "--model", "tner", "--min-score", "1")
    entities = lambda out: [e for line in out.splitlines() for e in json.loads(line)["entities"]]  # noqa: E731
    assert code == code_one == 0 and all(0 <= e["score"] <= 1 for e in entities(every))
    assert entities(certain) == [e for e in entities(every) if e["score"] >= 1]


def test_segment_accepts_a_user_dictionary() -> None:
    code, out = run("segment", str(FIXTURES / "input.txt"), "--model", "tcws", "--user-dict", str(FIXTURES / "user_dict.txt"))
    assert code == 0 and len(out.splitlines()) == 3


def test_a_forced_user_dictionary_keeps_its_words_whole(tmp_path: Path) -> None:
    words, text = tmp_path / "words.txt", tmp_path / "in.txt"
    words.write_text("在北京工 5\n", encoding="utf-8")
    text.write_text("王小明在北京工作。\n", encoding="utf-8")
    code, out = run("segment", str(text), "--model", "tcws", "--user-dict", str(words), "--dict-mode", "force")
    assert code == 0 and "在北京工" in out.split()


def test_pos_writes_word_slash_tag() -> None:
    code, out = run("pos", str(FIXTURES / "input.txt"), "--model", "tpos")
    first = out.splitlines()[0].split(" ")
    assert code == 0
    assert all("/" in token and token.rsplit("/", 1)[1] for token in first)
    assert "".join(token.rsplit("/", 1)[0] for token in first) == "王小明在北京工作。"


def test_ner_writes_json_lines_whose_offsets_index_the_line() -> None:
    code, out = run("ner", str(FIXTURES / "input.txt"), "--model", "tner")
    records = [json.loads(line) for line in out.splitlines()]
    lines = (FIXTURES / "input.txt").read_text(encoding="utf-8").splitlines()
    assert code == 0 and [r["text"] for r in records] == lines
    for record in records:
        for entity in record["entities"]:
            assert record["text"][entity["start"] : entity["end"]] == entity["text"]
            assert entity["type"] in {"PER", "LOC", "ORG"}


def test_ner_writes_one_json_line_per_text_even_for_texts_holding_unicode_line_breaks(tmp_path: Path) -> None:
    lines = ["我爱北京\u2028天安门", "江泽民在北京\x85会见", "王小明\u2029在上海"]
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out = run("ner", str(tmp_path / "in.txt"), "--model", "tner")
    assert code == 0 and [json.loads(line)["text"] for line in out.splitlines()] == lines


def test_control_characters_separate_words_and_are_never_tagged(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("我爱\x00北京\x1b[31m天安门\x7f\n", encoding="utf-8")
    code, out = run("pos", str(tmp_path / "in.txt"), "--model", "tpos")
    assert code == 0 and not any(ch in out for ch in "\x00\x1b\x7f")


@pytest.mark.parametrize(("command", "model", "needs"), [("segment", "tner", "cws or pos"), ("pos", "tcws", "pos"), ("ner", "tpos", "ner")])
def test_a_model_of_another_task_is_refused_in_one_line(command: str, model: str, needs: str, tmp_path: Path, capsys) -> None:
    (tmp_path / "in.txt").write_text("江泽民在北京\n", encoding="utf-8")
    assert run(command, str(tmp_path / "in.txt"), "--model", model) == (1, "")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{model}@1 is a" in err and f"{command} needs a {needs} model" in err


def test_segment_answers_from_a_pos_model_too(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("江泽民在北京\n", encoding="utf-8")
    code, out = run("segment", str(tmp_path / "in.txt"), "--model", "tpos")
    assert code == 0 and out.replace(" ", "") == "江泽民在北京\n"


@pytest.mark.parametrize(
    ("model", "corpus", "problem"),
    [("tcws", "江\tB-PER\n泽\tI-PER\n在\tO\n", "needs a segmented corpus"), ("tner", "江泽民 在 北京\n", "needs typed entities"),
     ("tpos", "江泽民 在 北京\n", "task pos needs words with their tags (pos: word/TAG tokens), and the seg corpus holds no labels"),
     ("tpos", "江\tB-PER\n泽\tI-PER\n在\tO\n", "task pos needs words with their tags (pos: word/TAG tokens), got conll entities"), ("tcws", "", "no sentences")],
)
def test_eval_refuses_a_corpus_it_cannot_score(model: str, corpus: str, problem: str, tmp_path: Path, capsys) -> None:
    """Scoring the wrong kind of file would print a figure that looks real."""
    (tmp_path / "test.txt").write_text(corpus, encoding="utf-8")
    assert run("eval", "--model", model, "--test", str(tmp_path / "test.txt"))[0] == 1
    assert problem in capsys.readouterr().err


def test_eval_warns_that_a_pos_corpus_read_as_seg_scores_words_with_their_tags(capsys) -> None:
    assert run("eval", "--model", "tcws", "--test", str(FIXTURES / "train.pos.txt"), "--format", "seg")[0] == 0
    assert "end in /TAG, read as part of the word: is it a pos corpus (--format pos)?" in capsys.readouterr().err
    assert run("eval", "--model", "tcws", "--test", str(FIXTURES / "train.pos.txt"))[0] == 0
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize(("flag", "value"), [("--hidden", "0"), ("--dropout", "2"), ("--epochs", "0"), ("--char-dim", "-3")])
def test_train_refuses_impossible_sizes_before_reading_anything(flag: str, value: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        run("train", "--task", "cws", "--train", str(FIXTURES / "train.pos.txt"), flag, value)
    assert exit_.value.code == 2 and flag in capsys.readouterr().err


def test_a_reader_that_leaves_early_ends_the_output_quietly(tmp_path: Path) -> None:
    """`zhtag segment big.txt | head -1`: no error message, the exit status of a SIGPIPE."""
    (tmp_path / "in.txt").write_text("今天天气很好。\n" * 30_000, encoding="utf-8")
    command = [sys.executable, "-m", "service.cli", "segment", str(tmp_path / "in.txt"), "--model", "tcws", "--threads", "1"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().decode().replace(" ", "") == "今天天气很好。\n"
    proc.stdout.close()
    assert proc.stderr.read() == b"" and proc.wait(timeout=120) == 141


def test_a_missing_file_is_named_without_a_line_number(tmp_path: Path, capsys) -> None:
    assert run("segment", str(tmp_path / "nonexist.txt"), "--user-dict", str(tmp_path / "nodict.txt"), "--model", "tcws")[0] == 1
    assert capsys.readouterr().err == f"zhtag: error: {tmp_path / 'nodict.txt'}: cannot read dictionary: No such file or directory\n"


def test_eval_warns_when_its_score_would_mean_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "raw.txt").write_text("今天天气很好\n我们去公园\n", encoding="utf-8")
    assert run("eval", "--model", "tcws", "--test", str(tmp_path / "raw.txt"))[0] == 0
    assert "is one word: is it segmented" in capsys.readouterr().err
    cluener = Path(__file__).parents[1] / "fixtures" / "corpora" / "tiny_cluener.json"
    assert run("eval", "--model", "tner", "--test", str(cluener))[0] == 0
    assert "are not among those tner@1 tags" in capsys.readouterr().err
    assert run("eval", "--model", "tcws", "--test", str(FIXTURES / "train.pos.txt"))[0] == 0
    assert capsys.readouterr().err == ""


def test_eval_prints_scores_as_json() -> None:
    code, out = run("eval", "--model", "tcws", "--test", str(FIXTURES / "train.pos.txt"))
    scores = json.loads(out)
    assert code == 0 and scores["model"] == "tcws@1"
    assert 0 <= scores["f1"] <= 100 and "oov_recall" in scores
    code, out = run("eval", "--model", "tner", "--test", str(FIXTURES / "train.bio"))
    assert code == 0 and "per_type_f1" in json.loads(out)


def test_dictionary_words_the_lexicon_cannot_use_are_named_in_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    words = tmp_path / "words.txt"
    words.write_text("好\n天气很好\n" + "长" * 13 + "\n", encoding="utf-8")
    text = tmp_path / "in.txt"
    text.write_text("今天天气很好\n", encoding="utf-8")
    code, out = run("segment", str(text), "--model", "tcws", "--user-dict", str(words))
    said = capsys.readouterr().err
    assert code == 0 and out.replace(" ", "") == "今天天气很好\n"
    assert "zhtag: warning: 2 dictionary word(s) of one character or over 12 characters are not used, e.g. '好'" in said


def test_version_prints_the_installed_packages_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        run("--version")
    assert exit.value.code == 0 and capsys.readouterr().out == f"zhtag {version('zhtag')}\n"


def test_models_lists_versions_with_the_active_one_starred() -> None:
    code, out = run("models")
    assert code == 0
    assert any(line.startswith("* tcws@1") for line in out.splitlines())


def test_models_list_and_verify_take_one_models_name_and_refuse_a_name_the_store_lacks(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run("models", "list", "tner")
    assert code == 0 and {line.split()[1].split("@")[0] for line in out.splitlines()} == {"tner"}
    code, out = run("models", "verify", "tner")
    assert code == 0 and out.splitlines() == ["ok      tner@1"]
    assert run("models", "verify", "nope")[0] == 1
    assert "no model 'nope' in the store" in capsys.readouterr().err


def test_models_lists_a_name_whose_active_file_is_damaged_with_its_problem_and_the_others_as_usual(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("tcws", "tner"):
        shutil.copytree(store / name, tmp_path / name)
    (tmp_path / "tcws" / "ACTIVE").write_text("garbage\n")
    monkeypatch.setenv("ZHTAG_STORE", str(tmp_path))
    code, out = run("models")
    assert code == 0
    assert "! tcws: model 'tcws': its ACTIVE file does not hold a version number" in out.splitlines()
    assert "  tcws@1" in out and any(line.startswith("* tner@1") for line in out.splitlines())


def test_models_lists_a_name_whose_active_file_names_a_missing_version_with_its_problem(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(store / "tcws", tmp_path / "tcws")
    (tmp_path / "tcws" / "ACTIVE").write_text("9\n")
    monkeypatch.setenv("ZHTAG_STORE", str(tmp_path))
    code, out = run("models", "list", "tcws")
    problem, version = out.splitlines()
    assert code == 0 and version.startswith("  tcws@1  dev f1 ")
    assert problem == "! tcws: model 'tcws': its ACTIVE file names version 9, which is not stored (activate one: tcws@N)"


def test_models_rollback_returns_to_the_previously_active_version(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(store / "tcws", tmp_path / "tcws")
    monkeypatch.setenv("ZHTAG_STORE", str(tmp_path))
    code, out = run("train", "--task", "cws", "--train", str(FIXTURES / "train.pos.txt"), "--from", "tcws", "--min-gain", "-100",
                    *FINE_TUNE)
    assert code == 0 and json.loads(out)["model"] == "tcws@2"
    assert run("models", "rollback", "tcws") == (0, "tcws@1 is active\n")
    assert run("models", "rollback", "tcws")[0] == 1  # nothing before tcws@1


def test_models_activate_makes_a_version_stored_inactive_the_active_one(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(store / "tcws", tmp_path / "tcws")
    monkeypatch.setenv("ZHTAG_STORE", str(tmp_path))
    code, out = run("train", "--task", "cws", "--train", str(FIXTURES / "train.pos.txt"), "--from", "tcws", "--no-auto-promote",
                    *FINE_TUNE)
    assert code == 0 and json.loads(out)["model"] == "tcws@2"
    listed = run("models")[1].splitlines()
    assert any(line.startswith("* tcws@1") for line in listed)
    assert any(line.startswith("  tcws@2") and line.endswith("(not promoted: auto_promote is off: activate it yourself)") for line in listed)
    assert run("models", "activate", "tcws@2") == (0, "tcws@2 is active\n")
    assert any(line.startswith("* tcws@2") for line in run("models")[1].splitlines())
    assert run("models", "activate")[0] == 1


def test_models_activate_refuses_a_name_without_its_version(capsys: pytest.CaptureFixture[str]) -> None:
    """A bare name is the active version: activating it would change nothing, yet say it did."""
    assert run("models", "activate", "tcws") == (1, "")
    assert capsys.readouterr().err == "zhtag: error: give the version to activate: tcws@N\n"


def test_models_verify_names_each_damaged_version_and_exits_non_zero(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    for name in ("tcws", "tner"):
        shutil.copytree(store / name, tmp_path / name)
    monkeypatch.setenv("ZHTAG_STORE", str(tmp_path))
    code, out = run("models", "verify")
    assert code == 0 and "ok      tcws@1" in out.splitlines()
    weights = tmp_path / "tner" / "1" / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])  # truncated
    code, out = run("models", "verify")
    assert code == 1
    assert any(line.startswith("FAILED  tner@1: checksum failed for weights.safetensors of tner@1") for line in out.splitlines())
    assert "ok      tcws@1" in out.splitlines()
    assert "1 of " in capsys.readouterr().err

@pytest.mark.parametrize(
    "argv, message",
    [
        (["segment", "--model", "nosuchmodel"], "nosuchmodel"),
        (["segment", "missing-file.txt", "--model", "tcws"], "missing-file.txt"),
        (["train", "--task", "cws", "--train", "missing.txt"], "missing.txt"),
    ],
)
def test_errors_print_one_line_and_exit_non_zero(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(*argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert len(err) == 1 and err[0].startswith("zhtag: error:") and message in err[0]


@pytest.mark.parametrize("model", ["tcws", "nosuchmodel"])
def test_tagging_leaves_the_garbage_collector_running_whether_the_model_loads_or_not(model: str) -> None:
    """The collector is paused while torch and the model load; callers of `main` get it back."""
    run("segment", str(FIXTURES / "input.txt"), "--model", model)
    assert gc.isenabled()


@pytest.mark.parametrize("argv", [["train", "--task", "cws", "--train", "x.txt", "--lr", "-1"], ["train", "--task", "ner", "--train", "x.bio", "--gazetteers", "ns,../x"], ["ner", "--min-score", "1.5"], ["segment", "--no-such-flag"]])
def test_usage_mistakes_print_one_line_and_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        run(*argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2
    assert len(err) == 1 and err[0].startswith("zhtag: error:") and argv[-1] in err[0]


def test_a_malformed_corpus_is_reported_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.bio"
    bad.write_text("王\tB-PER\n小明\tI-PER\n", encoding="utf-8")
    code, _ = run("train", "--task", "ner", "--train", str(bad))
    err = capsys.readouterr().err
    assert code != 0
    assert f"{bad}:2:" in err and "--skip-bad skips such lines" in err


def test_a_byte_order_mark_opening_the_input_is_dropped_not_tagged(tmp_path: Path) -> None:
    text = tmp_path / "bom.txt"
    text.write_bytes("\ufeff我们去公园\n\ufeff好\n".encode())
    code, out = run("ner", str(text), "--model", "tner")
    first, second = (json.loads(line)["text"] for line in out.splitlines())
    assert code == 0 and first == "我们去公园"
    assert second == "\ufeff好"  # only the file's first bytes are a signature; elsewhere U+FEFF is an invisible separator


def test_invalid_utf8_input_names_its_line_after_the_lines_before_it_are_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes("好的\n天气\n".encode() + b"\xff\xfe\n" + "后面\n".encode())
    code, out = run("segment", str(bad), "--model", "tcws")
    assert code != 0 and f"{bad}:3:" in capsys.readouterr().err
    assert [line.replace(" ", "") for line in out.splitlines()] == ["好的", "天气"]



def test_a_truncated_character_at_the_end_is_invalid_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes("好的\n天气".encode() + "很".encode()[:2])
    code, _ = run("segment", str(bad), "--model", "tcws")
    assert code != 0 and f"{bad}:2: not valid UTF-8" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["segment", "pos"])
def test_a_line_longer_than_a_piece_is_tagged_in_pieces_and_stays_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    monkeypatch.setattr("service.lines.PIECE_BYTES", 64)  # pieces cut mid-character too: the decoder joins them
    lines = ["今天天气很好，我们去北京天安门看升旗。" * 9 + "没有标点的长句子" * 9, "短句", "", "\x00空字符\x00也行" * 3]
    text = tmp_path / "long.txt"
    text.write_text("\n".join(lines), encoding="utf-8")  # no newline at the end
    code, out = run(command, str(text), "--model", f"t{command if command == 'pos' else 'cws'}")
    got = out.split("\n")
    assert code == 0 and got[-1] == "" and len(got) == len(lines) + 1
    words = [[token.rsplit("/", 1)[0] if command == "pos" else token for token in line.split(" ")] for line in got[:-1]]
    assert ["".join(line) for line in words] == [SEPARATOR.sub("", line) for line in lines]  # the NULs separate, as spaces do
    assert all(words_of_line for words_of_line in words[:2]) and "" not in words[0]


def test_a_long_line_without_punctuation_is_read_in_pieces_that_cut_no_word_and_no_character(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("service.lines.PIECE_BYTES", 200)
    text = tmp_path / "long.txt"
    text.write_text("我爱北京天安门" * 40 + "e\u0301👨\u200d👩\u200d👧" * 20 + "\n", encoding="utf-8")
    code, out = run("segment", str(text), "--model", "cws")
    words = out.split()
    assert code == 0 and "".join(words) == text.read_text(encoding="utf-8").strip()
    assert {"北京", "天安门"} <= set(words) and not {"北", "京", "天安", "门"} & set(words)
    assert not any(word[0] in "\u0301\u200d" for word in words), "no word begins inside a character cluster"


@pytest.mark.parametrize(("line", "whole", "flags"), [
    ("的" * 64 + "巧克力" + "的" * 200, "巧克力", ()),  # the word crosses the end of the first read
    ("我们用飞桨框架训练" * 40, "飞桨框架", ("--dict-mode", "force")),  # a user's word
    ("我來自臺灣" * 40, "臺灣", ()),  # traditional script: the lexicon matches it mapped
    ("访问https://example.com/a?b=1,c=2的的" * 12, "https://example.com/a?b=1,c=2", ()),  # an address's ? and , are no breaks
])
def test_the_pieces_of_a_long_line_keep_words_users_words_and_addresses_whole(
    line: str, whole: str, flags: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("service.lines.PIECE_BYTES", 200)
    (tmp_path / "long.txt").write_text(line + "\n", encoding="utf-8")
    (tmp_path / "words.txt").write_text("飞桨框架\n", encoding="utf-8")
    code, out = run("segment", str(tmp_path / "long.txt"), "--model", "cws", "--user-dict", str(tmp_path / "words.txt"), *flags)
    assert code == 0 and out.split().count(whole) == line.count(whole)


def test_ner_refuses_a_line_longer_than_a_piece_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("service.lines.PIECE_BYTES", 64)
    text = tmp_path / "long.txt"
    text.write_text("短句\n" + "长" * 100 + "\n", encoding="utf-8")
    code, _ = run("ner", str(text), "--model", "tner")
    assert code == 1 and f"{text}:2: line longer than 64 bytes" in capsys.readouterr().err


def test_the_console_command_reads_stdin_and_never_prints_a_traceback(store: Path) -> None:
    env = {"ZHTAG_STORE": str(store), "PATH": "/usr/bin:/bin"}
    ok = subprocess.run([sys.executable, "-m", "service.cli", "segment", "--model", "tcws"], input="今天天气很好\n\n", capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and ok.stdout.split("\n")[1] == ""
    bad = subprocess.run([sys.executable, "-m", "service.cli", "ner", "--model", "ner@999"], input="", capture_output=True, text=True, env=env)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and bad.stderr.count("\n") == 1


def test_serve_with_two_workers_answers_and_merges_their_metrics(store: Path) -> None:
    port = free_port()
    env = {**os.environ, "ZHTAG_STORE": str(store), "ZHTAG_MODELS": "tcws", "ZHTAG_WATCH_INTERVAL_S": "60"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--workers", "2", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        sent = 0
        while sent < 30 and time.monotonic() < deadline:  # a worker still warming answers 503: retry, as clients do
            try:
                status = httpx.post(f"{url}/v1/segment", json={"texts": [f"你好{sent}"], "model": "tcws"}).status_code
            except httpx.TransportError:
                status = 0
            if status == 200:
                sent += 1
            else:
                assert status in (0, 503)
                time.sleep(0.2)
        assert sent == 30, "two workers never became ready"
        scrapes = {httpx.get(f"{url}/metrics").text for _ in range(6)}
        counts = {line for text in scrapes for line in text.splitlines() if line.startswith('zhtag_requests_total{route="/v1/segment",status="200"')}
        assert counts == {'zhtag_requests_total{route="/v1/segment",status="200"} 30.0'}
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_models_lists_a_name_whose_versions_were_all_stored_inactive_with_how_to_serve_one(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Held back by its trainer (--no-auto-promote): nothing is wrong, so no `!`."""
    shutil.copytree(store / "tcws", tmp_path / "tcws")
    (tmp_path / "tcws" / "ACTIVE").unlink()
    monkeypatch.setenv("ZHTAG_STORE", str(tmp_path))
    code, out = run("models", "list", "tcws")
    note, version = out.splitlines()
    assert code == 0 and version.startswith("  tcws@1  dev f1 ")
    assert note == "  tcws: no version is active (zhtag models activate tcws@N serves one)"

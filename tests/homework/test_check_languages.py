"""`check --lang`: the report's headings, verdicts, score line and first wrong step in the reader's
language; the names, numbers and the JSON report the same in every language."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.loading.examples import example_path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "120"})


def one_wrong_key(tmp_path: Path) -> Path:
    config = tmp_path / "net.yaml"
    shutil.copy(example_path("classic_2_2_2"), config)
    key = tmp_path / "key.yaml"
    assert invoke("answers", str(config), "-o", str(key)).exit_code == 0
    text, count = re.subn(r"(?m)^  o\.w1_1\.new:.*$", "  o.w1_1.new: 0.3594", key.read_text(encoding="utf-8"))
    assert count == 1
    key.write_text(text, encoding="utf-8")
    return key


def test_the_report_in_russian_japanese_and_arabic(tmp_path: Path) -> None:
    key = one_wrong_key(tmp_path)
    english = invoke("check", str(key))
    assert english.exit_code == 1
    assert invoke("check", str(key), "--lang", "en").output == english.output
    total = int(re.search(r"of (\d+) answers", english.output).group(1))  # type: ignore[union-attr]
    russian = invoke("check", str(key), "--lang", "ru")
    assert russian.exit_code == 1
    assert "имя" in russian.output and "вердикт" in russian.output and "неверно" in russian.output
    assert "Первый неверный шаг: o.w1_1.new" in russian.output
    assert f"верно: {total - 1}, неверно: 1, без ответа: 0 из {total} ответов" in russian.output
    japanese = invoke("check", str(key), "--lang", "ja").output
    assert f"得点: {total - 1}/{total}" in japanese and "不正解" in japanese
    arabic = invoke("check", str(key), "--lang", "ar").output
    assert "أول خطوة خاطئة: o.w1_1.new" in arabic
    for report in (russian.output, japanese, arabic):  # the names and numbers are the English report's
        assert "o.w1_1.new" in report and "0.3594" in report


def test_the_json_report_is_the_same_in_every_language(tmp_path: Path) -> None:
    key = one_wrong_key(tmp_path)
    english = json.loads(invoke("check", str(key), "--format", "json").stdout)
    for lang in ("ru", "ja", "ar"):
        assert json.loads(invoke("check", str(key), "--format", "json", "--lang", lang).stdout) == english

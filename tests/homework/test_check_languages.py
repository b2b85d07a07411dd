"""`check --lang`: the report's headings, verdicts, score line and first wrong step in the reader's
language; the names, numbers and the JSON report the same in every language."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
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


def edited_sheet(tmp_path: Path, name: str, value: Callable[[float], float]) -> Path:
    """classic_2_2_2's key with ``name``'s answer replaced by ``value`` of the right one."""
    config = tmp_path / "net.yaml"
    shutil.copy(example_path("classic_2_2_2"), config)
    key = tmp_path / "key.yaml"
    assert invoke("answers", str(config), "-o", str(key)).exit_code == 0
    text = key.read_text(encoding="utf-8")
    pattern = rf"(?m)^  {re.escape(name)}: (.*)$"
    right = float(re.search(pattern, text).group(1))  # type: ignore[union-attr]
    sheet = tmp_path / f"sheet-{name}.yaml"
    sheet.write_text(re.sub(pattern, f"  {name}: {value(right)!r}", text), encoding="utf-8")
    return sheet


def unwrapped(report: str) -> str:
    return " ".join(report.split())


def test_hints_tolerance_and_the_failure_line_in_the_readers_language(tmp_path: Path) -> None:
    sheet = edited_sheet(tmp_path, "o.delta1", lambda right: -right)  # a sign slip: the hint says so
    english = invoke("check", str(sheet))
    assert english.exit_code == 1
    assert "o.delta1: sign only: the size is right and the sign is not" in english.output
    assert "tolerance: relative 0.001" in english.output
    assert english.stderr.startswith("check failed: 1 wrong and 0 missing of ")
    russian = invoke("check", str(sheet), "--lang", "ru")
    assert russian.exit_code == 1
    assert "o.delta1: только знак: величина верна, а знак нет" in russian.output
    assert "допуск: относительный 0.001" in russian.output
    assert russian.stderr.startswith("проверка не пройдена: неверно: 1, без ответа: 0 из ")
    japanese = invoke("check", str(sheet), "--lang", "ja")
    assert "o.delta1: 符号のみ" in japanese.output and "許容誤差: 相対 0.001" in japanese.output
    assert japanese.stderr.startswith("チェック不合格: ")
    arabic = invoke("check", str(sheet), "--lang", "ar")
    assert "o.delta1: الإشارة فقط" in arabic.output and arabic.stderr.startswith("فشل التحقق: ")
    for report in (russian.output, japanese.output, arabic.output):  # no English sentence is left
        assert "sign only" not in report and "relative" not in report and "check failed" not in report


def test_a_misconception_in_the_readers_language_and_english_in_json(tmp_path: Path) -> None:
    old = 0.40  # classic_2_2_2's o.w1_1: the update taken up the gradient, w + (w − w_new)
    sheet = edited_sheet(tmp_path, "o.w1_1.new", lambda right: 2 * old - right)
    english = unwrapped(invoke("check", str(sheet)).output)
    assert "Misconception, sign flip in the update (gradient ascent)" in english
    russian = unwrapped(invoke("check", str(sheet), "--lang", "ru").output)
    assert "Типичная ошибка, знак в обновлении перевёрнут (градиентный подъём)" in russian
    assert "w + η·∂L/∂w" in russian and "w_new = w − η·∂L/∂w" in russian  # the formulas as they are
    assert "Misconception" not in russian
    report = json.loads(invoke("check", str(sheet), "--format", "json").stdout)
    assert "Misconception, sign flip in the update" in json.dumps(report)
    for lang in ("ru", "ja", "ar"):  # hints, notes and findings are data in the JSON: English
        assert json.loads(invoke("check", str(sheet), "--format", "json", "--lang", lang).stdout) == report
    gradescope = json.loads(invoke("check", str(sheet), "--format", "gradescope", "--lang", "ru").stdout)
    output = next(test["output"] for test in gradescope["tests"] if test["name"] == "o.w1_1.new")
    assert "это совпадает с известной типичной ошибкой, знак в обновлении перевёрнут" in output


def test_the_derivation_asked_with_explain_in_russian(tmp_path: Path) -> None:
    sheet = edited_sheet(tmp_path, "o.delta1", lambda right: -right)
    english = invoke("check", str(sheet), "--explain").output
    assert "y1 (target, data row 1)" in english and "(derived above)" in english
    russian = invoke("check", str(sheet), "--explain", "--lang", "ru").output
    assert "Как вычисляется o.delta1:" in russian
    assert "y1 (целевое значение, строка данных 1)" in russian  # a target, read as one in Russian too
    assert "(выведено выше)" in russian and "(derived above)" not in russian

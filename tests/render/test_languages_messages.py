"""The trace's generated words in Russian (and Japanese, Arabic where it says so): the notes under the
tables, the title's built-in label, the network table's layer descriptions, the row-cap notice, expression
traces and the matrix view; each time with the English trace's names, formulas and numbers unchanged."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from backprop_cli.cli.main import main

PLAIN = {"NO_COLOR": None, "FORCE_COLOR": None}
NAME_OR_NUMBER = re.compile(r"\b[a-z]+\.[\w.]+|-?\d+\.\d+")  # out.dL_dw1_1, -0.30875


def run(*args: str) -> str:
    result = CliRunner().invoke(main, ["trace", *args], env=PLAIN)
    assert result.exit_code == 0, result.stderr
    return result.output


def unwrapped(text: str) -> str:
    return " ".join(text.split())


def test_the_notes_under_the_tables_and_the_title_label_are_translated() -> None:
    """The layer notes (batch norm, pool, flatten, activation) in Russian, their formulas kept as they are."""
    english = unwrapped(run("batchnorm2d_pool", "--step", "1", "--width", "200", "--no-color", "--max-rows", "0"))
    russian = unwrapped(
        run("batchnorm2d_pool", "--step", "1", "--width", "200", "--no-color", "--max-rows", "0", "--lang", "ru")
    )
    assert "batchnorm2d_pool (built-in example)" in english and "batchnorm2d_pool (встроенный пример)" in russian
    pairs = [
        ("with the batch's statistics", "со статистиками пакета"),
        ("a = the largest cell of each window", "a = наибольшая ячейка каждого окна"),
        ("each window's δ goes back to the cell that won it", "δ каждого окна возвращается в ячейку"),
        ("a = z: input entry j of the", "a = z: элемент j входа формы"),
        ("z = the layer's input; a = max(0, z)", "z = вход слоя; a = max(0, z)"),
        ("Batch statistics · layer bn1 (batch norm)", "Статистики пакета · слой bn1 (пакетная нормализация)"),
        (" · sample 2", " · образец 2"),
        ("batch norm (BatchNorm2d, 2 channels of 4)", "пакетная нормализация (BatchNorm2d, 2 канала по 4)"),
        (
            "max pool 2×2, stride 2: 2×2×2 → 2×1×1 max of each window",
            "max-пулинг 2×2, шаг 2: 2×2×2 → 2×1×1 max каждого окна",
        ),
        ("x1 … x8 (2×2×2, row-major)", "x1 … x8 (2×2×2, построчно)"),
    ]
    for words, translated in pairs:
        assert words in english and words not in russian, words
        assert translated in russian, translated
    for formula in ("x̂ = (x − mean) / √(var + ε)", "a = γ·x̂ + β", "∂L/∂γ = Σ ∂L/∂a·x̂", "p1.a1 ← r.a4"):
        assert formula in english and formula in russian, formula


def test_the_row_cap_notice_is_translated() -> None:
    english = unwrapped(run("--max-rows", "5", "--no-color", "--width", "100"))
    assert "… trace stopped after 5 rows (--max-rows)" in english
    russian = unwrapped(run("--max-rows", "5", "--no-color", "--width", "100", "--lang", "ru"))
    assert "… трассировка остановлена на пределе в 5 строк (--max-rows)" in russian and "--format json" in russian
    assert "trace stopped" not in russian


@pytest.mark.parametrize("args", [("circuit_add_mul",), ("shared_variable",), ("--view", "matrix")])
def test_expression_traces_and_the_matrix_view_keep_names_and_numbers(args: tuple[str, ...]) -> None:
    english = run(*args, "--width", "120", "--no-color")
    tokens = set(NAME_OR_NUMBER.findall(english))
    for lang in ("ru", "ja", "ar"):
        other = run(*args, "--width", "120", "--no-color", "--lang", lang)
        assert not tokens - set(NAME_OR_NUMBER.findall(other)), (args, lang)


def test_an_expression_trace_in_russian_and_japanese() -> None:
    russian = unwrapped(run("circuit_add_mul", "--width", "120", "--no-color", "--lang", "ru"))
    for words in ("Прямой проход · узел за узлом", "Обратный проход · f = q × z", "x задано -2", "из: f = q * z"):
        assert words in russian, words
    assert "Result · f" not in russian and "Результат · f и его градиенты по входам" in russian
    japanese = unwrapped(run("circuit_add_mul", "--width", "120", "--no-color", "--lang", "ja"))
    assert "順伝播 · ノードごと" in japanese and "結果 · f と入力についての勾配" in japanese
    shared = unwrapped(run("shared_variable", "--width", "120", "--no-color", "--lang", "ru"))
    assert "— сумма вкладов" in shared and "is the sum of the contributions" not in shared
    english = json.loads(run("circuit_add_mul", "--format", "json"))
    assert json.loads(run("circuit_add_mul", "--format", "json", "--lang", "ru")) == english


def test_the_matrix_view_in_russian() -> None:
    english = unwrapped(run("--view", "matrix", "--width", "120", "--no-color"))
    russian = unwrapped(run("--view", "matrix", "--width", "120", "--no-color", "--lang", "ru"))
    pairs = [
        ("Forward · layer hidden", "Прямой проход · слой hidden"),
        ("an outer product: δ is 1×1", "внешнее произведение: δ имеет форму 1×1"),
        ("so W is transposed (2×1)", "поэтому W транспонирована (2×1)"),
        ("matrices are named like their entries", "матрицы названы как их элементы"),
        ("Update · layer hidden weights", "Обновление · слой hidden, веса"),
    ]
    for words, translated in pairs:
        assert words in english and words not in russian, words
        assert translated in russian, translated
    assert "δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀ·δ⁽ˡ⁺¹⁾ ⊙ f′(z⁽ˡ⁾)" in russian

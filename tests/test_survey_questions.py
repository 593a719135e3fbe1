"""config/survey.yaml: the annual report's Appendix A questions, and file:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.errors import BadInputError, ConfigError
from workers.survey.questions import load_survey

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "config" / "survey.yaml"


def test_shipped_questions_are_the_seeds_tables_a_to_c() -> None:
    survey = load_survey(SHIPPED)
    # Table A has 6 questions, table B 9, table C 7 (annual report 2013-14, Appendix A)
    assert [len(survey.questions(r)) for r in ("carer", "social_worker", "guardian")] == [6, 9, 7]
    carer = survey.questions("carer")
    assert survey.scale_of(carer[0]) == ("Always", "Usually", "Sometimes", "Occasionally", "Never")
    assert survey.scale_of(carer[4]) == ("Excellent", "Good", "Fair", "Poor")
    assert survey.scale_of(carer[5])[-1] == "N/A"
    assert survey.scale_of(survey.questions("social_worker")[5]) == (
        "Very well", "Quite well", "Poorly")


def test_answers_are_checked_against_each_questions_scale() -> None:
    survey = load_survey(SHIPPED)
    assert survey.check_answers("carer", {"Q1": "always", "Q5": "Good", "Q6": ""}) == {
        "Q1": "Always", "Q5": "Good"}
    with pytest.raises(BadInputError) as info:
        survey.check_answers("carer", {"Q5": "Always", "Q9": "Good"})
    message = str(info.value)
    assert "Q5: 'Always' is not an answer; expected one of Excellent / Good / Fair / Poor" \
        in message
    assert "Q9: no such question for carer" in message


def test_problems_name_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "survey.yaml"
    path.write_text(
        "scales:\n"                       # 1
        "  frequency: [Always, Never]\n"  # 2
        "roles:\n"                        # 3
        "  carer:\n"                      # 4
        "    title: Foster carers\n"      # 5
        "    questions:\n"                # 6
        "      - key: Q1\n"               # 7
        "        text: Invited?\n"        # 8
        "        scale: frequncy\n"       # 9
        "      - key: Q1\n"               # 10
        "        text: Again?\n"          # 11
        "        scale: frequency\n"      # 12
        "  parent:\n"                     # 13
        "    title: Parents\n"
        "    questions: []\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_survey(path)
    assert f"{path}:13: roles.parent" in str(info.value)  # not a role the survey asks
    path.write_text(path.read_text().split("  parent:")[0], encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_survey(path)
    lines = str(info.value).splitlines()
    assert lines == [
        f"{path}:9: roles.carer.questions[0].scale: unknown scale 'frequncy'; "
        "expected one of: frequency",
        f"{path}:10: roles.carer.questions[1].key: question key 'Q1' appears twice",
    ]


def test_config_check_names_a_survey_yaml_problem(config_copy: Path) -> None:
    import subprocess
    import sys

    text = (config_copy / "survey.yaml").read_text(encoding="utf-8")
    (config_copy / "survey.yaml").write_text(text.replace("scale: quality", "scale: qualty", 1),
                                             encoding="utf-8")
    exe = Path(sys.executable).with_name("iro")
    done = subprocess.run([str(exe), "--config", str(config_copy), "config", "check"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "survey.yaml:" in done.stderr and "unknown scale 'qualty'" in done.stderr

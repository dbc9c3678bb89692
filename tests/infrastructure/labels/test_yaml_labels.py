"""The labels file: layout, template precedence, re-reading on change, one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.domain.errors import ConfigError, NotFound
from app.domain.labels import attribute_prompts, category_prompts
from app.infrastructure.labels.yaml_labels import YamlLabelSource, parse_labels

REPO = Path(__file__).resolve().parents[3]

LABELS = """
templates: ["a photo of a {}.", "a picture of a {}."]
attribute_templates: ["a photo of a {} {category}."]
attributes:
  color: {classes: [red, blue]}
  gender:
    classes: {men: "men's", women: "women's"}
    templates: ["a {} {category}"]
categories:
  shoe:
    phrase: pair of shoes
    attribute_templates: ["{} shoes"]
    attributes: [color, gender]
  hat:
    templates: ["a photo of a {} on a head."]
    attributes:
      color:
      size: {classes: [small, large]}
  dress:
"""


def test_categories_attributes_and_prompts():
    labels = parse_labels(LABELS, "labels.yaml")
    assert labels.category_names == ["shoe", "hat", "dress"]
    assert category_prompts(labels) == [
        ["a photo of a pair of shoes.", "a picture of a pair of shoes."],
        ["a photo of a hat on a head."],
        ["a photo of a dress.", "a picture of a dress."],
    ]
    shoe, hat = labels.category("shoe"), labels.category("hat")
    assert [a.name for a in shoe.attributes] == ["color", "gender"]
    assert attribute_prompts(shoe, shoe.attribute("color")) == [["red shoes"], ["blue shoes"]]
    gender = shoe.attribute("gender")
    assert gender.class_names == ["men", "women"]
    assert attribute_prompts(shoe, gender) == [
        ["a men's pair of shoes"],
        ["a women's pair of shoes"],
    ]
    assert attribute_prompts(hat, hat.attribute("size"))[1] == ["a photo of a large hat."]
    assert labels.category("dress").attributes == ()


def test_the_shipped_labels_file_matches_clothing_small():
    labels = YamlLabelSource(REPO / "data" / "labels.yaml").load()
    assert set(labels.category_names) == {
        "dress", "hat", "longsleeve", "outwear", "pants", "shirt", "shoes", "shorts", "skirt",
        "t-shirt",
    }  # fmt: skip
    shoes = labels.category("shoes")
    assert {"color", "gender", "age_group"} <= {a.name for a in shoes.attributes}
    for category in labels.categories:
        assert all(len(p) >= 2 for p in category_prompts(labels))
        for attribute in category.attributes:
            assert all(attribute_prompts(category, attribute))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("categories: [a, b", "line 1: invalid YAML"),
        ("templates: ['x {}']", "top level: missing 'categories'"),
        ("categories: {}", "categories: no categories defined"),
        ("categories: {shoe: {attributes: [colour]}}", "unknown attribute 'colour'"),
        ("categories: {shoe: {colour: red}}", "categories.shoe: unknown key 'colour'"),
        ("templates: ['a photo']\ncategories: [a]", "bad template 'a photo': use '{}' once"),
        ("templates: ['{} {category}']\ncategories: [a]", "bad template"),
        ("attributes: {c: {classes: [red]}}\ncategories: {a: {attributes: [c]}}",
         "attributes.c.classes: needs at least two classes"),
        ("categories: [a, a]", "duplicate names: a"),
        ("categories: {a: {attributes: {c: {templates: ['{}']}}}}", "missing 'classes'"),
        ("- just\n- a list", "top level: expected a mapping"),
    ],
)  # fmt: skip
def test_malformed_files_fail_in_one_line_naming_file_and_place(text, message):
    with pytest.raises(ConfigError) as caught:
        parse_labels(text, "my/labels.yaml")
    line = str(caught.value)
    assert line.startswith("my/labels.yaml: ") and message in line and "\n" not in line


def test_file_is_reread_only_when_it_changes(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text("categories: [a, b]")
    source = YamlLabelSource(path)
    first = source.load()
    assert source.load() is first
    path.write_text("categories: [a, b, c]")
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse file systems
    assert source.load().category_names == ["a", "b", "c"]


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFound, match=r"labels file not found: .*LABELS_FILE"):
        YamlLabelSource(tmp_path / "nope.yaml").load()

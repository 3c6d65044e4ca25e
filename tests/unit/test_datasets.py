"""Label files and inputs: official row formats, windowing, and errors that name the line."""

import pytest
from tinyperf.formats.errors import DatasetError
from tinyperf.harness.run.datasets import Dataset, LabelRow, label_map, read_labels, windows


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_read_reference_label_files(reference_dir):
    kws = read_labels(reference_dir / "kws01" / "y_labels.csv")
    assert len(kws) == 1000
    assert kws[0] == LabelRow("tst_000000_Stop_7.bin", "12", "7", None, None, 1)
    ad = read_labels(reference_dir / "ad01" / "y_labels.csv")
    assert len(ad) == 248 and ad[0].bytes_to_send == "2560" and ad[0].stride == "512"
    assert len(read_labels(reference_dir / "ad01" / "y_labels_alt.csv")) == 72


def test_spaces_after_commas_accepted(tmp_path):
    rows = read_labels(write(tmp_path, "y.csv", "tst_000000_Stop_7.bin, 12, 7\n"))
    assert rows[0].classes == "12" and rows[0].label == "7"


@pytest.mark.parametrize(("text", "line", "what"), [
    ("a.bin,12,7\nb.bin,12\n", 2, "3 or 5"),
    ("a.bin,12,x\n", 1, "'class' is not an integer"),
    (",12,7\n", 1, "empty file name"),
    ("\n\n", None, "no rows"),
])
@pytest.mark.parametrize("reader", [read_labels, label_map])
def test_bad_label_files(tmp_path, text, line, what, reader):
    with pytest.raises(DatasetError) as err:
        reader(write(tmp_path, "y.csv", text))
    assert what in str(err.value)
    assert err.value.line == line
    assert "y.csv" in str(err.value)


@pytest.mark.parametrize("name", ["kws01/y_labels.csv", "ad01/y_labels.csv",
                                  "ic01/y_labels_superseded.csv", "vww01/y_labels.csv"])
def test_label_map_is_the_rows_file_to_class(reference_dir, name):
    rows = read_labels(reference_dir / name)
    assert label_map(reference_dir / name) == {r.file: int(r.label) for r in rows}


def test_missing_label_file(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        read_labels(tmp_path / "nope.csv")


def test_ad01_windows_exactly_as_runner():
    row = LabelRow("f.bin", "2", "0", "2560", "512")
    data = bytes(range(256)) * 400  # 102400 bytes
    cut = windows(row, data)
    assert len(cut) == 196
    assert cut[1] == data[512:512 + 2560]
    assert all(len(w) == 2560 for w in cut)


def test_sample_ad01_file_gives_196_windows(reference_dir):
    ds_root = reference_dir
    row = LabelRow("normal_id_01_00000000_hist_librosa.bin", "2", "0", "2560", "512")
    data = (ds_root / "ad01" / row.file).read_bytes()
    assert len(windows(row, data)) == 196


def test_dataset_size_checks(tmp_path):
    folder = tmp_path / "kws01"
    folder.mkdir()
    (folder / "y_labels.csv").write_text("a.bin,12,1\nb.bin,12,2\n")
    (folder / "a.bin").write_bytes(bytes(490))
    (folder / "b.bin").write_bytes(bytes(489))
    ds = Dataset(tmp_path, "kws01")
    assert len(ds.read(ds.rows[0])) == 490
    with pytest.raises(DatasetError, match="489 bytes, expected 490"):
        ds.inputs(all_windows=True)
    (folder / "b.bin").unlink()
    with pytest.raises(DatasetError, match="line 2 of y_labels.csv not found"):
        ds.inputs(all_windows=True)


def test_dataset_folder_missing(tmp_path):
    with pytest.raises(DatasetError, match="dataset folder not found"):
        Dataset(tmp_path, "kws01")

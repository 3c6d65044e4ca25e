"""MLCommons runner formats: our writers reproduce real published files byte for byte."""

import json

import numpy as np
from tinyperf.formats import metrics, mlc


def test_performance_results_txt_round_trip(v13):
    for bench in ("kws", "ad"):
        folder = v13 / bench / "performance"
        published = (folder / "results.txt").read_text().replace("\r\n", "\n")
        records = json.loads((folder / "results.json").read_text())
        claim = mlc.parse_results_txt(published)
        windows = [mlc.PerfWindow(r["infer"]["iterations"], r["infer"]["elapsed_time"],
                                  r["infer"]["throughput"]) for r in records if "infer" in r]
        for w, r in zip(windows, records):
            assert metrics.throughput(w.iterations, w.elapsed_us) == r["infer"]["throughput"]
        median = metrics.median_throughput([w.throughput for w in windows])
        rendered = mlc.performance_txt(windows, median, claim.stamp)
        assert rendered == published
        assert claim.median_throughput == round(median, 3)


def test_accuracy_results_txt_recomputed_from_results_json(v13):
    folder = v13 / "kws" / "accuracy"
    published = (folder / "results.txt").read_text().replace("\r\n", "\n")
    records = json.loads((folder / "results.json").read_text())
    scores = metrics.file_scores([(r["file"], int(r["class"]), r["infer"]["results"])
                                  for r in records])
    assert len(scores.files) == 1000
    top1 = metrics.accuracy_top1(scores.y_true, scores.y_pred)
    auc = metrics.accuracy_auc(scores.y_true, scores.y_pred)
    claim = mlc.parse_results_txt(published)
    assert mlc.accuracy_txt(top1, auc, claim.stamp) == published
    assert (claim.top1, claim.auc) == (90.2, 0.995)


def test_log_results_agree_with_results_json(v13):
    folder = v13 / "kws" / "accuracy"
    from_log = mlc.parse_log_results((folder / "log.txt").read_text())
    records = json.loads((folder / "results.json").read_text())
    assert len(from_log) == len(records) == 1000
    for (name, segment, values), rec in zip(from_log, records):
        assert name == rec["file"] and segment == 0
        assert np.allclose(values, rec["infer"]["results"])


def test_results_json_rendering_matches_published_bytes(v13):
    raw = (v13 / "kws" / "performance" / "results.json").read_text()
    assert mlc.results_json(json.loads(raw)) == raw


def test_record_key_order():
    infer = mlc.infer_record(start_time=1, end_time=2, results=[0.5], elapsed_time=1,
                             total_inferences=1, iterations=1, warmups=0, throughput=3.0,
                             mode="p")
    assert list(infer) == ["start_time", "end_time", "results", "elapsed_time",
                           "total_inferences", "iterations", "warmups", "throughput"]
    rec = mlc.window_record(file="f", classes="2", label="0", bytes_to_send="2560",
                            stride="512", total_length=1, infer=infer, mode="p")
    assert list(rec) == ["file", "classes", "class", "bytes_to_send", "stride",
                         "total_length", "infer", "mode"]
    acc = mlc.infer_record(start_time=1, end_time=2, results=[0.5], elapsed_time=1,
                           total_inferences=1, iterations=1, warmups=0, throughput=3.0,
                           mode="a")
    assert "throughput" not in acc


def test_performance_errors_replace_median():
    w = [mlc.PerfWindow(10, 5_000_000, 2.0)] * 4
    text = mlc.performance_txt(w, 2.0, "0101.000000", ["error 1", "error 2"])
    assert "ERROR 1 - loop_count was not exactly 5." in text
    assert "ERROR 2" not in text and "Median" not in text
    assert "Runtime requirements have been met." not in text

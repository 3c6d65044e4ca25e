"""The virtual sww01 bench end to end through ``tinyperf run``: board + DUT (+ LPM01A) on
ptys, the real model on the real short file, in simulated time.

The short file gives TP 2, FN 1, FP 0 (sww01_model.md 10.1, the reference README); the
duty cycle is the configured processing time over the 32 ms block; the energy is the
power model's analytic value between the DUT's start and stop pulses.
"""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import pytest
from tinyperf.firmware_interface.sim.energy_rig import virtual_sww_bench
from tinyperf.harness.run import sww as sww_run

from tinyperf.cli.main import main

RUNNER = Path(__file__).resolve().parents[2].parent / "shared" / "peers" / "mlcommons_tiny" / \
    "benchmark" / "runner"
SHORT = "short_wav_easy10s.wav"
SCRIPT = ("sww01:\n  name: streaming_wakeword\n  model: sww01\n  truth_file: {truth}\n"
          "  script:\n{steps}")

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def ref(reference_dir: Path) -> Path:
    return reference_dir / "sww01"


@pytest.fixture
def sd_card(tmp_path: Path, ref: Path) -> Path:
    card = tmp_path / "sd"
    card.mkdir()
    (card / SHORT).symlink_to(ref / SHORT)
    return card


def _dataset(tmp_path: Path, ref: Path, entries: list[dict] | None = None,
             name: str = "sww_short_test.json") -> Path:
    ds = tmp_path / "ds"
    (ds / "sww01").mkdir(parents=True, exist_ok=True)
    if entries is None:
        shutil.copy(ref / "sww_short_test.json", ds / "sww01" / name)
    else:
        (ds / "sww01" / name).write_text(json.dumps(entries))
    return ds


def _script(tmp_path: Path, steps: str = "    - stream\n",
            truth: str = "sww_short_test.json") -> Path:
    path = tmp_path / "tests.yaml"
    path.write_text(SCRIPT.format(truth=truth, steps=steps))
    return path


def _run(mode: str, bench, ds: Path, script: Path, out: Path, *extra: str) -> tuple[int, Path]:
    argv = ["run", "--mode", mode, "--interface", bench.interface_url, "--test-script",
            str(script), "--dataset-path", str(ds), "--output-dir", str(out), "--no-progress",
            *extra]
    if mode == "energy":
        argv += ["--monitor", bench.monitor, "--voltage", "1.8"]
    rc = main(argv)
    (session,) = sorted(out.iterdir())
    return rc, session


def test_performance_run_scores_the_short_file(tmp_path, ref, sd_card, capsys):
    ds = _dataset(tmp_path, ref)
    with virtual_sww_bench(sd_card, energy=False, tflite=ref / "str_ww_ref_model.tflite",
                           processing_us=18_000) as bench:
        rc, session = _run("performance", bench, ds, _script(tmp_path), tmp_path / "out")
    assert rc == 1  # 3 windows, not the official 50: reported, not a crash
    assert "2 TP, 1 FN, 0 FP" in capsys.readouterr().out
    assert (session / "results.txt").read_text() == (
        "Accuracy: 2 True positives, 1 False negatives, 0 False positives\n"
        "Average duty cycle: 0.5625\n"
        "Average period: 0.032 s\n"
        "Estimated throughput: 55.556 inf./sec.\n")
    (record,) = json.loads((session / "results.json").read_text())
    assert record["mode"] == "p"
    dets = record["infer"]["detections"]
    # steps 0 (origin), 43-66, 156: 32 ms apart, the origin 18 ms after the first block
    assert len(dets) == 26 and dets[0] == 50 and dets[1] - dets[0] == 43 * 32
    assert dets[-1] - dets[0] == 156 * 32
    assert len(record["activations"]) == 312 + 1  # the runner's duplicated last item
    assert record["dutycycle"]["processing_time"] == pytest.approx(0.018)
    assert len(record["dutycycle"]["start_times_s"]) == 100
    log = (session / "log.txt").read_text().splitlines()
    assert "... done" in log and "False negatives: [7.0]" in log
    assert any("end + 2.0 s" in line for line in log)  # the window rule is stated
    run = json.loads((session / "run.json").read_text())
    assert (run["figures"]["tp"], run["figures"]["fn"], run["figures"]["fp"]) == (2, 1, 0)


def test_energy_run_is_within_0_1_percent_of_the_power_model(tmp_path, ref, sd_card):
    ds = _dataset(tmp_path, ref)
    with virtual_sww_bench(sd_card, energy=True, tflite=ref / "str_ww_ref_model.tflite",
                           processing_us=20_000, idle_a=3e-3, active_a=12e-3) as bench:
        rc, session = _run("energy", bench, ds, _script(tmp_path), tmp_path / "out")
        truth_j = bench.truth_energy_j()
    assert rc == 1
    (record,) = json.loads((session / "results.json").read_text())
    assert record["mode"] == "e" and list(record)[-2:] == ["power", "mode"]
    samples, events = record["power"]["samples"], record["power"]["timestamps"]
    assert len(events) >= 2
    i0, i1 = events[-2][1], events[-1][1]
    measured = sum(samples[i0:i1])
    assert truth_j is not None and measured == pytest.approx(truth_j, rel=1e-3)
    txt = (session / "results.txt").read_text()
    assert txt.startswith("Power Edition Output\nEnergy data for trial 0\n")
    assert "Accuracy: 2 True positives, 1 False negatives, 0 False positives" in txt
    assert "Average duty cycle: 0.625\n" in txt
    power_mw = float(txt.split("Power         : ")[1].split(" mW")[0])
    elapsed = (i1 - i0) / 1000
    assert power_mw == pytest.approx(truth_j / elapsed * 1e3, rel=1e-3)
    assert (session / "energy_inf_000.png").is_file()


def test_accuracy_loops_over_every_truth_entry(tmp_path, ref, sd_card):
    short = json.loads((ref / "sww_short_test.json").read_text())[0]
    ds = _dataset(tmp_path, ref, [short, short])
    with virtual_sww_bench(sd_card, energy=False, tflite=ref / "str_ww_ref_model.tflite") \
            as bench:
        script = _script(tmp_path, "    - loop:\n      - stream\n")
        rc, session = _run("accuracy", bench, ds, script, tmp_path / "out")
    assert rc == 1
    records = json.loads((session / "results.json").read_text())
    assert [r["mode"] for r in records] == ["a", "a"]
    assert records[0]["infer"]["detections"] == records[1]["infer"]["detections"]
    assert (session / "results.txt").read_text().count("Accuracy: 2 True positives") == 2


@pytest.mark.parametrize("mode", ["performance", "energy"])
def test_the_official_scripts_run_unchanged(tmp_path, ref, sd_card, mode):
    official = RUNNER / f"tests_{mode}.yaml"
    if not official.is_file():
        pytest.skip("the MLCommons runner's scripts are not in ../shared/peers")
    # the official entry names sww_long_test.json; its WAV is not available, so the short
    # stream's truth stands in under that name
    ds = _dataset(tmp_path, ref, name="sww_long_test.json")
    with virtual_sww_bench(sd_card, energy=mode == "energy",
                           tflite=ref / "str_ww_ref_model.tflite") as bench:
        rc, session = _run(mode, bench, ds, official, tmp_path / "out")
    assert rc == 1
    assert "Accuracy: 2 True positives, 1 False negatives, 0 False positives" in \
        (session / "results.txt").read_text()


def test_readme_window_rule_is_an_option(tmp_path, ref, sd_card):
    ds = _dataset(tmp_path, ref)
    with virtual_sww_bench(sd_card, energy=False, tflite=ref / "str_ww_ref_model.tflite") \
            as bench:
        _, session = _run("performance", bench, ds, _script(tmp_path), tmp_path / "out",
                          "--sww-window", "readme")
    run = json.loads((session / "run.json").read_text())
    assert run["figures"]["window_rule"] == "readme"
    assert any("README" in r for r in run["reasons"])


# -- bad input: a clear error, nothing lost ---------------------------------------------------


def _write_wav(path: Path, rate: int, width: int = 2, channels: int = 2) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(b"\0" * width * channels * rate)


@pytest.mark.parametrize("rate,width,match", [(8000, 2, "8000 Hz"), (16000, 1, "is 8")])
def test_a_wav_that_is_not_16k_16bit_is_refused_by_name(tmp_path, ref, sd_card, rate, width,
                                                        match):
    _write_wav(sd_card / "bad.wav", rate, width)
    entries = [{"wav_file": "bad.wav", "sample_rate": 16000, "length_sec": 1.0,
                "detection_windows": [[0.1, 0.5]]}]
    ds = _dataset(tmp_path, ref, entries)
    shutil.copy(sd_card / "bad.wav", ds / "sww01" / "bad.wav")
    with virtual_sww_bench(sd_card, energy=False, tflite=ref / "str_ww_ref_model.tflite") \
            as bench:
        with pytest.raises(sww_run.SwwRunError,
                           match=rf"bad\.wav.*{match}|{match}.*bad\.wav"):
            _run_direct(bench, ds, tmp_path)
    session = next((tmp_path / "out").iterdir())
    assert "ERROR: DatasetError" in (session / "log.txt").read_text()


def test_the_board_refuses_a_bad_wav_it_holds(tmp_path, ref, sd_card):
    """No local copy: the board's own 'Error playing file' reply is the error."""
    _write_wav(sd_card / "mono.wav", 16000, 2, channels=1)
    entries = [{"wav_file": "mono.wav", "sample_rate": 16000, "length_sec": 1.0,
                "detection_windows": [[0.1, 0.5]]}]
    ds = _dataset(tmp_path, ref, entries)
    with virtual_sww_bench(sd_card, energy=False, tflite=ref / "str_ww_ref_model.tflite") \
            as bench:
        with pytest.raises(sww_run.SwwRunError, match=r"could not play 'mono\.wav'"):
            _run_direct(bench, ds, tmp_path)
        assert "needs 2" in bench.board.play_errors[0]


def test_a_truth_file_with_malformed_windows_names_the_item(tmp_path, ref, sd_card):
    entries = [{"wav_file": SHORT, "sample_rate": 16000, "length_sec": 10.0,
                "detection_windows": [[1.0, 1.5], [4.0]]}]
    ds = _dataset(tmp_path, ref, entries)
    with virtual_sww_bench(sd_card, energy=False, tflite=ref / "str_ww_ref_model.tflite") \
            as bench:
        with pytest.raises(sww_run.SwwRunError, match=r"detection_windows\[1\]"):
            _run_direct(bench, ds, tmp_path)
    session = next((tmp_path / "out").iterdir())
    assert "Device model retrieved: sww01" in (session / "log.txt").read_text()
    assert json.loads((session / "run.json").read_text())["valid"] is False


def test_no_detections_aborts_as_the_runner_but_keeps_the_data(tmp_path, ref, sd_card):
    ds = _dataset(tmp_path, ref)
    with virtual_sww_bench(sd_card, energy=False, tflite=ref / "str_ww_ref_model.tflite") \
            as bench:
        bench.dut.on_detection = None  # WW_DETECTED not wired: the board sees no pulse
        with pytest.raises(sww_run.SwwRunError, match=r"No detections captured.*runner aborts"):
            _run_direct(bench, ds, tmp_path)
    session = next((tmp_path / "out").iterdir())
    log = (session / "log.txt").read_text()
    assert "ERROR: " in log and "No detections captured" in log
    (record,) = json.loads((session / "results.json").read_text())  # raw data kept
    assert record["infer"]["detections"] == [] and len(record["dutycycle"]["start_times_s"])


def test_a_dut_that_never_reports_m_ready_after_stop(tmp_path, ref, sd_card, monkeypatch):
    ds = _dataset(tmp_path, ref)
    monkeypatch.setattr(sww_run, "STOP_TIMEOUT_S", 1.0)
    with virtual_sww_bench(sd_card, energy=False, tflite=ref / "str_ww_ref_model.tflite") \
            as bench:
        execute = bench.dut.execute

        def no_ready_after_stop(text):
            response = execute(text)
            if text == "stop":
                response.events.remove("m-ready")
            return response

        bench.dut.execute = no_ready_after_stop
        with pytest.raises(sww_run.SwwRunError, match=r"no 'm-ready'.*'dut stop'"):
            _run_direct(bench, ds, tmp_path)
    session = next((tmp_path / "out").iterdir())
    assert "Device model retrieved: sww01" in (session / "log.txt").read_text()
    assert "ERROR: DutTimeout" in (session / "log.txt").read_text()


def test_third_party_stop_text_gives_no_activations(tmp_path, ref, sd_card):
    ds = _dataset(tmp_path, ref)
    with virtual_sww_bench(sd_card, energy=False, tflite=ref / "str_ww_ref_model.tflite",
                           stop_text="Stopping ww detection.") as bench:
        result = _run_direct(bench, ds, tmp_path)
    (record,) = json.loads((result.session / "results.json").read_text())
    assert record["activations"] == []
    assert "No activation data found." in (result.session / "log.txt").read_text()
    assert (result.figures["tp"], result.figures["fn"]) == (2, 1)


def _run_direct(bench, ds: Path, tmp_path: Path):
    from tinyperf.harness.run import scenarios
    from tinyperf.harness.run.runner import RunConfig

    config = RunConfig(mode="performance", dataset_path=ds, output_dir=tmp_path / "out",
                       entries=scenarios.load_test_script(_script(tmp_path)),
                       port=bench.interface_url)
    return sww_run.run_board_session(config)


def test_sww_activation_log_prints_sixteen_per_line():
    from tinyperf.formats.sww_protocol import format_activations

    lines = format_activations(list(range(20)))
    assert lines[0] == "target activations: "
    assert lines[1].startswith("[0, 1,") and lines[1].count(",") == 16
    assert lines[2] == "16, 17, 18, 19, ]"

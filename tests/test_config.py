"""The shared settings: the device (and its environment override) and the CPU threads."""

import os

import pytest
import torch

from pinn_tutorial.config import DEVICE_ENV, THREADS_ENV, ConfigError, get_device, idle_cores, set_threads


@pytest.fixture
def threads():
    """Restore PyTorch's thread count after the test."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("available, expected", [(True, "cuda"), (False, "cpu")])
def test_the_device_is_cuda_when_a_gpu_is_there_else_the_cpu(monkeypatch, available, expected):
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    assert get_device() == torch.device(expected)


def test_the_environment_overrides_the_device_and_an_argument_overrides_both(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv(DEVICE_ENV, "cpu")
    assert get_device() == torch.device("cpu")
    monkeypatch.setenv(DEVICE_ENV, "cuda:1")
    assert get_device() == torch.device("cuda", 1)
    assert get_device("cpu") == torch.device("cpu") and get_device(torch.device("cuda", 0)) == torch.device("cuda", 0)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv(DEVICE_ENV, "")  # empty: as if unset
    assert get_device() == torch.device("cpu")


def test_a_device_that_torch_does_not_know_or_cuda_without_a_gpu_is_a_config_error(monkeypatch):
    with pytest.raises(ConfigError, match="unknown device 'gpu0'"):
        get_device("gpu0")
    for name in ("mps", "xpu", "meta"):  # known to torch, but not built into this wheel or not a place to train
        with pytest.raises(ConfigError, match=f"unknown device '{name}'; choose cpu or cuda"):
            get_device(name)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv(DEVICE_ENV, "cuda")  # from the environment too
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        get_device()


@pytest.mark.parametrize("load, idle", [(0.1, 4), (1.4, 3), (2.6, 1), (9.0, 1)])
def test_an_ensemble_takes_only_the_cores_the_load_leaves_idle(monkeypatch, load, idle):
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, 0.0, 0.0))
    assert idle_cores() == idle  # 4 cores less the rounded load, at least one


def test_without_a_load_average_every_core_counts_as_idle(monkeypatch):
    def unknown():
        raise OSError("no load average here")

    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    monkeypatch.setattr(os, "getloadavg", unknown)
    assert idle_cores() == 3


def test_threads_one_unless_told(monkeypatch, threads):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    torch.set_num_threads(2)
    assert set_threads() == 1 and torch.get_num_threads() == 1
    monkeypatch.setenv(THREADS_ENV, "2")
    assert set_threads() == 2 and torch.get_num_threads() == 2
    assert set_threads(3) == 3 and torch.get_num_threads() == 3  # an argument beats the environment


@pytest.mark.parametrize("text", ["0", "-1", "two", "\u00b2", "99999999999999999999"])
def test_threads_that_are_not_a_count_torch_can_take_are_a_config_error(monkeypatch, threads, text):
    monkeypatch.setenv(THREADS_ENV, text)
    with pytest.raises(ConfigError, match=f"{THREADS_ENV} must be a whole number from 1 to"):
        set_threads()


@pytest.mark.parametrize(("name", "near"), [("helmholz", "helmholtz"), ("m4", "M4"),
                                            ("helmholtz_architectures", "helmholtz-architectures")])
def test_an_unknown_name_suggests_the_near_miss(name, near):
    from pinn_tutorial.config import choose

    valid = ("helmholtz", "klein_gordon", "M1", "M4", "helmholtz-architectures")
    with pytest.raises(ConfigError, match=f"did you mean '{near}'\\? choose one of"):
        choose("name", name, valid)
    with pytest.raises(ConfigError) as far:
        choose("name", "zzz", valid)
    assert "did you mean" not in str(far.value)

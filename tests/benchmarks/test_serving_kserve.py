"""benchmarks/serving_kserve.py: KServe's server is run as the lab's InferenceService runs its predictor
(its env from the GitOps tree), on 127.0.0.1 only, with the S3 keys off the command line."""

from __future__ import annotations

from pathlib import Path

from benchmarks import serving_kserve
from tests.real import kserve_server


def test_the_predictor_env_is_the_inference_services() -> None:
    assert serving_kserve.predictor_env() == {"PREDICT_PROBA": "true"}


def test_the_server_runs_the_release_sklearnserver_on_loopback_with_the_isvc_env() -> None:
    argv = serving_kserve.server_argv("bench-kserve", Path("/deps"), Path("/src"), Path("/models"), 18080, 18081,
                                      ["--cpuset-cpus", "0"])
    assert argv[:4] == ["docker", "run", "-d", "--name"] and "--cpuset-cpus" in argv
    assert argv[argv.index("--network") + 1] == "host"
    assert "PREDICT_PROBA=true" in argv and "PYTHONPATH=/srv:/deps" in argv
    code = argv[argv.index("-c") + 1]
    assert code == serving_kserve.BIND_LOOPBACK and argv[argv.index("-c") - 1] == kserve_server.PYTHON_IMAGE
    assert argv[argv.index("-c") + 2:] == ["--model_dir", "/mnt/models", "--model_name", "iris",
                                           "--http_port", "18080", "--grpc_port", "18081"]
    # Both of kserve 0.20.0's listeners are moved to loopback: uvicorn's host and gRPC's [::].
    assert 'kwargs["host"] = "127.0.0.1"' in code and '.replace("[::]:", "127.0.0.1:")' in code
    compile(code, "BIND_LOOPBACK", "exec")


def test_the_storage_initializer_gets_the_keys_from_a_file_not_argv(tmp_path: Path) -> None:
    env_file = tmp_path / "s3.env"
    argv = serving_kserve.storage_argv(Path("/deps"), tmp_path / "models", env_file, "http://127.0.0.1:9000",
                                       "s3://ml-models/iris-bench.joblib")
    assert argv[argv.index("--env-file") + 1] == str(env_file)
    assert not any("AWS_ACCESS_KEY_ID" in a or "AWS_SECRET_ACCESS_KEY" in a for a in argv)
    assert "S3_ENDPOINT=127.0.0.1:9000" in argv and "AWS_ENDPOINT_URL=http://127.0.0.1:9000" in argv
    assert argv[-1] == "from kserve_storage import Storage; Storage.download('s3://ml-models/iris-bench.joblib', '/mnt/models')"

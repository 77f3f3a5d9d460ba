"""prometheus_client and psutil come with the locust extra: the report and the CLI work without them."""
import subprocess
import sys


def test_the_cli_and_the_report_do_not_import_the_observers_dependencies():
    code = ("import sys, loadgen.cli, loadgen.reports.html, loadgen.reports.server_panels, loadgen.observe.settings; "
            "print(sorted({'prometheus_client', 'psutil', 'gevent', 'locust'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

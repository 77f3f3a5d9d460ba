"""Finding a local Flow's metrics endpoints among its processes' listening ports."""
import subprocess
import sys

from loadgen.observe.processes import describe_endpoints, find_endpoints, flow_processes

# A stand-in Flow: a parent with one child; the child listens on a metrics port (Prometheus
# text), a port that answers 404 (like a websocket gateway) and a port that speaks no HTTP.
CHILD = r'''
import http.server, socket, sys, threading
class Metrics(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'# TYPE jina_successful_requests_total counter\njina_successful_requests_total{runtime_name="enc/rep-0"} 3.0\n'
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
class NotFound(Metrics):
    def do_GET(self):
        self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers()
servers = [http.server.HTTPServer(("127.0.0.1", 0), h) for h in (Metrics, NotFound)]
for s in servers: threading.Thread(target=s.serve_forever, daemon=True).start()
raw = socket.socket(); raw.bind(("127.0.0.1", 0)); raw.listen(1)
def binary():
    while True:
        c, _ = raw.accept(); c.sendall(b"\x00\x00\x18\x04 not http"); c.close()
threading.Thread(target=binary, daemon=True).start()
print(servers[0].server_address[1], servers[1].server_address[1], raw.getsockname()[1], flush=True)
threading.Event().wait()
'''
PARENT = "import subprocess, sys; child = subprocess.Popen([sys.executable, '-c', sys.argv[1]]); child.wait()"


def test_the_metrics_port_of_a_child_process_is_found_and_named():
    parent = subprocess.Popen([sys.executable, "-c", PARENT, CHILD],
                              stdout=subprocess.PIPE, text=True)
    try:
        metrics_port, _, _ = map(int, parent.stdout.readline().split())
        processes = flow_processes(parent.pid)
        assert len(processes) == 2 and processes[0].pid == parent.pid
        endpoints = find_endpoints(parent.pid)
        assert [e.url for e in endpoints] == [f"http://127.0.0.1:{metrics_port}/metrics"]
        assert endpoints[0].pid == processes[1].pid
        lines = describe_endpoints(parent.pid)
        assert lines[0] == f"metrics of enc/rep-0: http://127.0.0.1:{metrics_port}/metrics"
        assert lines[1].endswith(f"--server-metrics pid:{parent.pid}")
    finally:
        for process in flow_processes(parent.pid)[::-1]:
            process.kill()
        parent.wait()
        parent.stdout.close()
    assert flow_processes(parent.pid) == []

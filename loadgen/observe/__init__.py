"""The server side of a run and loadgen's live figures (docs/observability.md).

- :mod:`~loadgen.observe.scrape`: one scrape of a Prometheus text endpoint, parsed into series
  (:mod:`~loadgen.observe.rawhttp`: the blocking HTTP it uses, safe in a native thread).
- :mod:`~loadgen.observe.rates`: two scrapes → increases, rates, means, ``histogram_quantile``.
- :mod:`~loadgen.observe.processes`: a local Flow's processes: their endpoints, CPU and memory.
- :mod:`~loadgen.observe.watch` (+ :mod:`~loadgen.observe.totals`, :mod:`~loadgen.observe.table`):
  the run's scrapes interval by interval → ``server_metrics.csv`` and ``summary.json`` ``server``.
- :mod:`~loadgen.observe.exporter` (+ :mod:`~loadgen.observe.hdr_buckets`): ``--prometheus-port``.
- :mod:`~loadgen.observe.settings`: the options' record.

Nothing here imports Locust or gevent; :mod:`loadgen.locust_adapter.observing` runs it in a
Locust run (in native threads).
"""

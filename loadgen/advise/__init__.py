"""Advise: the cheapest Flow topology that holds a target rate within the SLO (``loadgen
advise``, the ``advise`` scenario step; docs/advise.md).

One concept per module, in the order an advice uses them:

- :mod:`~loadgen.advise.topology` -- replicas and shards per Executor, processes (pure);
- :mod:`~loadgen.advise.flow_yaml` -- a Flow YAML's Executors; copies with another topology;
- :mod:`~loadgen.advise.config` -- what the advisor is told (Flow, target, bounds, load);
- :mod:`~loadgen.advise.strategy` -- greedy by bottleneck, grid; when to stop (pure);
- :mod:`~loadgen.advise.cpu` -- how busy the cores were during a measurement;
- :mod:`~loadgen.advise.measure` -- one topology: its Flow, a capacity trial or search, the shares;
- :mod:`~loadgen.advise.report` -- advice.json, the table, the answer and the YAML fragment;
- :mod:`~loadgen.advise.page` -- advice.html;
- :mod:`~loadgen.advise.driver` -- the strategy over measured topologies, the files;
- :mod:`~loadgen.advise.cli` -- ``loadgen advise``'s options.

Nothing here imports locust at module level: a trial imports the Locust adapter when it runs.
"""

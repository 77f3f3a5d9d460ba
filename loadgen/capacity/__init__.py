"""Capacity: the highest request rate a Flow holds within its SLO (``loadgen capacity``,
the ``find_capacity`` scenario step; docs/capacity.md).

One concept per module, in the order a search uses them:

- :mod:`~loadgen.capacity.config` -- what a search is told (load, windows, bounds, gates);
- :mod:`~loadgen.capacity.search` -- the rate sequence: grow by a factor, then bisect (pure);
- :mod:`~loadgen.capacity.trial` -- one open-loop Locust run at a rate, stopped once decided;
- :mod:`~loadgen.capacity.reader` -- a trial's report intervals from its files, as they grow;
- :mod:`~loadgen.capacity.windows` -- warm-up, windows, merged figures, agreement (pure);
- :mod:`~loadgen.capacity.verdict` -- held / violated / unstable / generator-saturated (pure);
- :mod:`~loadgen.capacity.report` -- capacity.json, the trials table, the answer line;
- :mod:`~loadgen.capacity.page` -- capacity.html;
- :mod:`~loadgen.capacity.driver` -- the probe, the trials, the files (``find_capacity``);
- :mod:`~loadgen.capacity.cli` -- ``loadgen capacity``'s options.

Nothing here imports locust at module level: a trial imports the Locust adapter when it runs.
"""

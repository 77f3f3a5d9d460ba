"""Running the load generator beyond one machine: an EC2 master/worker fleet, S3 results,
Kubernetes manifest checks. See docs/distributed.md.

Modules, one concept each:

- :mod:`loadgen.cloud.aws` -- boto3 clients, error translation, the dry-run recorder;
- :mod:`loadgen.cloud.userdata` -- the start command and user-data of a master or worker;
- :mod:`loadgen.cloud.fleet` -- ``fleet up``: security group, instances, rollback;
- :mod:`loadgen.cloud.inventory` -- what carries a fleet's tag: status, logs, teardown;
- :mod:`loadgen.cloud.webui` -- polling the master's web API until workers connect;
- :mod:`loadgen.cloud.pricing` -- the hourly cost estimate;
- :mod:`loadgen.cloud.s3` -- results directories to and from S3 with checksums;
- :mod:`loadgen.cloud.k8s` -- offline checks of ``docker/k8s`` (``make k8s-check``);
- :mod:`loadgen.cloud.cli` -- argv of ``loadgen fleet`` and ``loadgen s3`` (the edge).

boto3 and botocore are imported lazily, inside the functions that call AWS, so
``import loadgen.cloud`` (and ``loadgen --help``) needs neither; nothing here imports locust.
"""
from loadgen.errors import CloudError

__all__ = ["CloudError"]

"""Running the load generator beyond one machine: an EC2 master/worker fleet, S3 results and
datasets, Kubernetes manifest checks. See docs/distributed.md.

Modules, one concept each:

- :mod:`loadgen.cloud.aws` -- boto3 sessions and clients of one region, error translation
  (EC2 and S3 alike), the dry-run recorder;
- :mod:`loadgen.cloud.ec2` -- EC2 building blocks: lookups, key pairs, the security group
  and who may reach the web UI, launching, finding by tag, terminating, console output;
- :mod:`loadgen.cloud.pricing` -- the hourly cost estimate;
- :mod:`loadgen.cloud.userdata` -- the start command and user-data of a master or worker;
- :mod:`loadgen.cloud.fleet_config` -- what ``fleet up`` launches, checked; fleet ids;
- :mod:`loadgen.cloud.fleet` -- ``fleet up|down|status|logs``: launch, rollback, teardown;
- :mod:`loadgen.cloud.master_api` -- polling the master's web API until workers connect;
- :mod:`loadgen.cloud.s3_objects` -- the S3 layer: URLs, listing, the key-escape check,
  verified downloads, errors of reading S3 given as input (``--dataset s3://``);
- :mod:`loadgen.cloud.s3` -- results directories to and from S3 with checksums;
- :mod:`loadgen.cloud.k8s_check` -- offline checks of ``docker/k8s`` (``make k8s-check``);
- :mod:`loadgen.cloud.cli` -- argv of ``loadgen fleet`` and ``loadgen s3`` (the edge).

boto3 and botocore are imported lazily, inside the functions that call AWS, so
``import loadgen.cloud`` (and ``loadgen --help``) needs neither; nothing here imports locust.
"""
from loadgen.errors import CloudError

__all__ = ["CloudError"]

"""A rough hourly cost of a fleet, from a small table of on-demand list prices.

The figures are us-east-1 Linux on-demand prices in USD per hour (AWS's public price
list, 2025); other regions cost up to ~30 % more, spot usually 50-70 % less. They are an
estimate to print next to the UI URL, not a bill: the AWS Pricing API needs extra
permissions and a us-east-1 endpoint, which ``fleet up`` should not depend on.
"""
from __future__ import annotations

from typing import Optional

ON_DEMAND_USD_PER_HOUR = {
    "t3.medium": 0.0416, "t3.large": 0.0832, "t3.xlarge": 0.1664, "t3.2xlarge": 0.3328,
    "c5.large": 0.085, "c5.xlarge": 0.17, "c5.2xlarge": 0.34, "c5.4xlarge": 0.68,
    "c6i.large": 0.085, "c6i.xlarge": 0.17, "c6i.2xlarge": 0.34, "c6i.4xlarge": 0.68,
    "c7i.large": 0.08925, "c7i.xlarge": 0.1785, "c7i.2xlarge": 0.357,
    "c6g.large": 0.068, "c6g.xlarge": 0.136, "c7g.large": 0.0725, "c7g.xlarge": 0.145,
    "m5.large": 0.096, "m5.xlarge": 0.192, "m6i.large": 0.096, "m6i.xlarge": 0.192,
    "m7i.large": 0.1008, "m7i.xlarge": 0.2016,
}


def hourly_usd(instance_type: str, instances: int) -> Optional[float]:
    """On-demand USD per hour of ``instances`` of ``instance_type``; None when unknown."""
    price = ON_DEMAND_USD_PER_HOUR.get(instance_type)
    return None if price is None else round(price * instances, 4)


def cost_line(instance_type: str, instances: int, *, spot: bool = False) -> str:
    """One line for humans, e.g. ``cost: about $0.26/hour (3 x c6i.large on demand, us-east-1 list price)``."""
    usd = hourly_usd(instance_type, instances)
    what = f"{instances} x {instance_type}"
    if usd is None:
        return f"cost: no price on file for {instance_type} ({what}); see the EC2 pricing page"
    if spot:
        return f"cost: at most about ${usd:.2f}/hour ({what} spot; on-demand us-east-1 list price as the ceiling)"
    return f"cost: about ${usd:.2f}/hour ({what} on demand, us-east-1 list price; other regions differ)"

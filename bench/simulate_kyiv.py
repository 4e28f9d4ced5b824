"""The whole city on the night: `shelterwatch simulate kyiv-2023-06-01` at Kyiv's size.

The bundled registry (3,694 shelters), 100,000 residents whose look-ups all fall in the first
minute, one patrol per hundred shelters, a tenth of the doors with controllers, through
`shelterwatch serve` and `shelterwatch worker` on a fresh database. Prints the outcome table
beside the night without shelterwatch, how many first look-ups were answered within the first
minute of the night's clock, and the load average; `--plot` writes the PNG. It runs in real
time by default (`--speed 1`): compressing the clock divides the server's capacity by the speed
as the residents see it, and the point here is whether a city's first minute of look-ups is
served. Four minutes of the night by default, so a run stays within five.

    .venv/bin/python bench/simulate_kyiv.py [--residents 100000] [--shelters N] [--speed 1]
        [--minutes 4] [--arrive-s 60] [--seed 1] [--pg ADMIN_URL] [--no-controllers]
        [--clients N] [--plot docs/simulate-kyiv-2023-06-01.png]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shelterwatch.simulate import outcome, run  # noqa: E402
from shelterwatch.simulate.nights import KYIV_2023_06_01  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--shelters", type=int, default=None)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--arrive-s", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg", metavar="ADMIN_URL")
    parser.add_argument("--no-controllers", action="store_true")
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--clients", type=int, default=None,
                        help="processes sending the residents' requests (one per two cores)")
    args = parser.parse_args()
    print(f"load average at the start {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    result = run.run(run.Options(
        night=KYIV_2023_06_01, seed=args.seed, residents=args.residents, shelters=args.shelters,
        speed=args.speed, minutes=args.minutes, arrive_s=args.arrive_s, pg_admin_url=args.pg,
        controller_share=0 if args.no_controllers else 0.1, clients=args.clients,
        mqtt_url="" if args.no_controllers else "mqtt://127.0.0.1:1883",
        progress=lambda line: print(line, file=sys.stderr)))
    answers = sorted(result.first_answers_s)
    in_minute = sum(t <= 60 for t in answers)
    print(f"{result.shelters} shelters, {result.night.residents} residents, "
          f"{result.patrols} patrols, {args.speed:g}× for {result.plan.night_s:.0f} s in "
          f"{result.wall_s:.0f} s; load average {result.load_average[0]:.1f} → "
          f"{result.load_average[1]:.1f}")
    print(f"first look-ups the server answered within the first minute: {in_minute} of "
          f"{result.night.residents}, by the end {len(answers)} (last at "
          f"{answers[-1] if answers else float('nan'):.0f} s of the night's clock); "
          f"{result.offline_first} ranked by the phone from its pack instead; "
          f"{result.given_way} look-ups in all sent to the pack at once by a server taking "
          f"reports first")
    print(outcome.table(f"{result.plan.name}, seed {args.seed}", result.night,
                        result.baseline))
    if args.plot:
        from shelterwatch.simulate import plot

        plot.write(result, args.plot)
        print(f"plot written to {args.plot}")


if __name__ == "__main__":
    main()

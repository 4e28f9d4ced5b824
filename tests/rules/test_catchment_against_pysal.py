"""Our 2SFCA equals PySAL `access`'s on random cities (the reference implementation)."""

from __future__ import annotations

import numpy as np
import pytest

from shelterwatch.rules.catchment import two_step_fca
from shelterwatch.rules.coverage import Candidates

access = pytest.importorskip("access")
pd = pytest.importorskip("pandas")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_two_step_fca_matches_pysal_access(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_cells, n_shelters, speed, warning = 40, 9, 1.3, 600.0
    people = rng.integers(0, 500, n_cells).astype(float)
    places = rng.integers(20, 400, n_shelters).astype(float)
    rows = [[(s, float(rng.uniform(50, 1500))) for s in range(n_shelters) if rng.random() < 0.5]
            for _ in range(n_cells)]
    ours = two_step_fca(Candidates.from_lists(rows), people, places,
                        np.ones(n_shelters, dtype=bool), speed, np.full(n_cells, warning))

    demand = pd.DataFrame({"people": people}, index=pd.Index(range(n_cells), name="cell"))
    supply = pd.DataFrame({"places": places}, index=pd.Index(range(n_shelters), name="shelter"))
    cost = pd.DataFrame([(c, s, m / speed) for c, row in enumerate(rows) for s, m in row],
                        columns=["cell", "shelter", "seconds"])
    model = access.Access(demand_df=demand, demand_value="people", supply_df=supply,
                          supply_value="places", cost_df=cost, cost_origin="cell",
                          cost_dest="shelter", cost_name="seconds")
    theirs = model.two_stage_fca(name="2sfca", max_cost=warning, normalize=False)
    expected = theirs.reindex(range(n_cells)).iloc[:, 0].fillna(0.0).to_numpy()
    assert ours.max() > 0 and (ours == 0).sum() < n_cells
    assert ours == pytest.approx(expected, rel=1e-9, abs=1e-12)

"""D3 of signal-propagation: the rubric's checks as otter test cases."""
from otter.test_files import test_case

OK_FORMAT = False

name = 'D3'


# D3, check 1 "chi_1 at the sheet's point": allclose rtol=0.0 atol=5e-05, 0.666667 points
# (rubrics/signal-propagation.yaml v1; expected values from reference.signal_propagation)
@test_case(name="chi_1 at the sheet's point", points=0.666667)
def test_1(chi1):
    import numpy as np

    for args, expected in [
        ((2.0, 0.3), 1.3270703910154271),
    ]:
        got = chi1(*args)
        assert np.shape(got) == np.shape(expected), f"chi1{args}: shape {np.shape(got)}"
        assert np.allclose(got, expected, rtol=0.0, atol=5e-05), \
            f"chi1{args} = {got!r}, expected {expected!r}"


# D3, check 2 "chi_1 at other points": allclose rtol=0.0 atol=1e-06, 1.33333 points
# (rubrics/signal-propagation.yaml v1; expected values from reference.signal_propagation)
@test_case(name='chi_1 at other points', points=1.333333)
def test_2(chi1):
    import numpy as np

    for args, expected in [
        ((1.0, 0.05), 0.9340590695465725),
        ((0.9, 0.1), 0.7526543953740662),
        ((1.2, 0.3), 0.8700112500377187),
        ((1.5, 0.05), 1.136707784095615),
        ((1.4, 0.1), 1.0864956583833758),
        ((0.8, 0.0), 0.6400000000000001),
        ((1.3, 0.0), 1.0643691710288639),
    ]:
        got = chi1(*args)
        assert np.shape(got) == np.shape(expected), f"chi1{args}: shape {np.shape(got)}"
        assert np.allclose(got, expected, rtol=0.0, atol=1e-06), \
            f"chi1{args} = {got!r}, expected {expected!r}"

"""D1 of signal-propagation: the rubric's checks as otter test cases."""
from otter.test_files import test_case

OK_FORMAT = False

name = 'D1'


# D1, check 1 "q map at small q": allclose rtol=0.0 atol=1e-08, 0.666667 points
# (rubrics/signal-propagation.yaml v1; expected values from reference.signal_propagation)
@test_case(name='q map at small q', points=0.666667)
def test_1(q_map):
    import numpy as np

    for args, expected in [
        ((0.0, 1.5, 0.2), 0.04000000000000001),
        ((0.1, 1.5, 0.2), 0.22948133894749126),
        ((0.5, 1.5, 0.2), 0.6557716928576627),
        ((0.3, 0.8, 0.0), 0.12624856800141965),
    ]:
        got = q_map(*args)
        assert np.shape(got) == np.shape(expected), f"q_map{args}: shape {np.shape(got)}"
        assert np.allclose(got, expected, rtol=0.0, atol=1e-08), \
            f"q_map{args} = {got!r}, expected {expected!r}"


# D1, check 2 "q map at larger q": allclose rtol=1e-05 atol=0.0, 0.666667 points
# (rubrics/signal-propagation.yaml v1; expected values from reference.signal_propagation)
@test_case(name='q map at larger q', points=0.666667)
def test_2(q_map):
    import numpy as np

    for args, expected in [
        ((2.0, 1.5, 0.2), 1.2099454277438846),
        ((3.0, 1.5, 0.2), 1.366237940075793),
    ]:
        got = q_map(*args)
        assert np.shape(got) == np.shape(expected), f"q_map{args}: shape {np.shape(got)}"
        assert np.allclose(got, expected, rtol=1e-05, atol=0.0), \
            f"q_map{args} = {got!r}, expected {expected!r}"


# D1, check 3 "q* at the sheet's point": allclose rtol=0.0 atol=5e-05, 1.33333 points
# (rubrics/signal-propagation.yaml v1; expected values from reference.signal_propagation)
@test_case(name="q* at the sheet's point", points=1.333333)
def test_3(q_star):
    import numpy as np

    for args, expected in [
        ((2.0, 0.3), 2.253753376227891),
    ]:
        got = q_star(*args)
        assert np.shape(got) == np.shape(expected), f"q_star{args}: shape {np.shape(got)}"
        assert np.allclose(got, expected, rtol=0.0, atol=5e-05), \
            f"q_star{args} = {got!r}, expected {expected!r}"


# D1, check 4 "q* at other points": allclose rtol=0.0 atol=1e-06, 1.33333 points
# (rubrics/signal-propagation.yaml v1; expected values from reference.signal_propagation)
@test_case(name='q* at other points', points=1.333333)
def test_4(q_star):
    import numpy as np

    for args, expected in [
        ((1.0, 0.05), 0.03712203508013627),
        ((0.9, 0.1), 0.040216514301884144),
        ((1.2, 0.3), 0.46952112024236975),
        ((1.5, 0.05), 0.7983871143080961),
        ((1.4, 0.1), 0.6127991242763704),
        ((0.8, 0.0), 0.0),
        ((1.3, 0.0), 0.40898322565135936),
    ]:
        got = q_star(*args)
        assert np.shape(got) == np.shape(expected), f"q_star{args}: shape {np.shape(got)}"
        assert np.allclose(got, expected, rtol=0.0, atol=1e-06), \
            f"q_star{args} = {got!r}, expected {expected!r}"

"""The Hermitized cavity equations of the Jacobian's resolvent (internal).

:mod:`.equations` (the reduced map at eps = 0), :mod:`.pair` (its K = 2
closed forms), :mod:`.linalg` (batched small-matrix algebra), :mod:`.newton`
(the batched solver) and :mod:`.hermitized` (the literal eps > 0 equations, the
reference route). The public entry points are in
:mod:`gatefield.numerics.spectrum.observables`.
"""

"""The paper's 16 downstream benchmarks (Tables 2-3), each read from its own release, in the
released eval code's protocol: ``python -m recipes.videossr.eval bench NAME --root DIR --model M --out OUT``.

One module per concern: ``spec`` (what a benchmark declares), ``protocol`` (the paper's prompts,
parsers, frame settings), ``scoring`` (scores, the two accountings), ``registry`` (name -> module),
``benchmarks/`` (one declaration per benchmark), ``runner`` (the 32/48/64 sweep, resumable),
``tables`` (Tables 2-3), ``reference`` (the paper's numbers), ``docs`` (the README tables).
"""

"""Policy knowledge library (no Rasa imports): parse, store, index, search and answer.

Entry points for the service and scripts:

    from knowledge.search import load_searcher          # seeds the store, builds/loads the index
    searcher = load_searcher("var/knowledge.db", "var/index")
    result = searcher.search("创业担保贷款最多能贷多少？", k=5)   # SearchResult(answerable, hits, …)
    searcher.refresh()                                   # re-index after staff edits (also automatic)

    from knowledge.answer import compose_answer
    answer = compose_answer(question, searcher, today)   # Answer(answerable, parts, citations)

Modules stay import-light: heavy dependencies (faiss, the encoders) load on first use.
"""

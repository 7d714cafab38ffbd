"""One pseudonym per user for stores and logs (bot.pseudonym)."""
from bot.pseudonym import pseudonym
from bot.wechat_endpoint import openid_pseudonym


def test_the_pseudonym_is_the_one_stored_before_it_had_an_owner():
    # sha256("rest:abc")[:16]: feedback rows written before keep matching their senders' new rows
    assert pseudonym("rest:abc") == "339bb190e4aa7cdf"


def test_the_wechat_log_and_the_policy_service_name_a_user_alike():
    assert openid_pseudonym("o6_bmjrPTlm6_2sgVt7hMZOPfL2M") == pseudonym("wechat:o6_bmjrPTlm6_2sgVt7hMZOPfL2M")

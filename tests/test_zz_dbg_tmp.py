from tests.conftest import *  # noqa
from tests.test_security_baseline import *  # noqa
from tests.test_security_baseline import BAD_BYTES

def test_dbg(member_on_site, site):
    new = site.url("/b/{slug}/new")
    token = member_on_site.token(new).encode()
    for body in [b"csrf_token=" + token + b"&title=Hello+there&body=Fine+body",
                 b"csrf_token=" + token + b"&title=" + BAD_BYTES + b"&body=" + BAD_BYTES]:
        r = member_on_site.client.post(new, data=body, content_type="application/x-www-form-urlencoded")
        print(r.status_code, r.get_data(as_text=True)[-1500:])

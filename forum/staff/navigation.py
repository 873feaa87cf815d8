"""What the header offers moderators and admins: links to their areas and the number of posts
waiting in their report queue (the way Discourse's header shows its review count).

Only staff pay for it: for members and visitors `staff_navigation` answers None without a query,
so their pages, and the anonymous page cache, are untouched."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from forum.access import permissions
from forum.access.viewer import Viewer
from forum.staff import mod_reading


@dataclass(frozen=True)
class StaffNavigation:
    administers: bool
    # Posts with open reports in the boards the viewer moderates: the entries of /mod/reports.
    open_reports: int


def staff_navigation(session: Session, viewer: Viewer) -> StaffNavigation | None:
    if not permissions.can_use_mod_area(viewer):
        return None
    counts = mod_reading.open_report_counts(session, viewer)
    return StaffNavigation(
        administers=permissions.can_administer(viewer), open_reports=counts.posts
    )

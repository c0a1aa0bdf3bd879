from django.urls import path

from complaints import views

app_name = "complaints"
urlpatterns = [
    path("", views.complaint_list, name="list"),
    path("new/", views.complaint_new, name="new"),
    path("<int:complaint_id>/", views.complaint_detail, name="detail"),
    path("<int:complaint_id>/transition/", views.complaint_transition, name="transition"),
    path("<int:complaint_id>/assign/", views.complaint_assign, name="assign"),
    path("<int:complaint_id>/take/", views.complaint_take, name="take"),
    path("<int:complaint_id>/comment/", views.complaint_comment, name="comment"),
    path("<int:complaint_id>/recategorize/", views.complaint_recategorize, name="recategorize"),
]
